/**
 * Registry authentication helpers: where credentials come from, how `WWW-Authenticate` challenges are
 * read, and how token scopes are merged. The {@link RegistryClient} orchestrates them.
 *
 * Credentials, first match wins, per registry host:
 * 1. `credentials` passed to the client (a map host → credentials, or a function);
 * 2. the environment: `REGISTRY_USERNAME` + `REGISTRY_PASSWORD`, for the hosts listed in the optional,
 *    comma-separated `REGISTRY_HOST` (every registry when `REGISTRY_HOST` is unset);
 * 3. the `auths` entries of the Docker client config: `$DOCKER_CONFIG/config.json`, else
 *    `~/.docker/config.json` (`auth` = base64 `user:password`, or `username` + `password`).
 *    Credential helpers (`credsStore`, `credHelpers`) and identity tokens are not used.
 *
 * Credentials are only ever sent in answer to a challenge: to the registry after a `Basic` challenge,
 * to the token realm after a `Bearer` one; never over plain http except to loopback hosts.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { DOCKER_HUB } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";

/** A username and password (or personal access token) for one registry. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Credentials with where they were found, for error messages (never the secret itself). */
export interface ResolvedCredentials extends RegistryCredentials {
  /** Human-readable origin, e.g. `REGISTRY_USERNAME/REGISTRY_PASSWORD` or `/root/.docker/config.json`. */
  readonly source: string;
}

/** Explicit credentials: per registry host (`docker.io`, `127.0.0.1:5000`), or a lookup function. */
export type CredentialsOption =
  | Readonly<Record<string, RegistryCredentials>>
  | ((registry: string) => RegistryCredentials | undefined);

/** Where {@link resolveRegistryCredentials} looks. */
export interface CredentialSources {
  /** Explicit credentials, consulted first. */
  readonly credentials?: CredentialsOption;
  /** Environment to read `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`/`REGISTRY_HOST`/`DOCKER_CONFIG` from. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Docker config file to read `auths` from; `false` to ignore it. Default: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly dockerConfigPath?: string | false;
}

/** A parsed `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  /** Lowercased scheme: `bearer`, `basic`, … */
  readonly scheme: string;
  /** Auth parameters with lowercased names: `realm`, `service`, `scope`, `error`. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Canonical name of a registry host, as used to look credentials up: `index.docker.io`,
 * `registry-1.docker.io` and `https://index.docker.io/v1/` all become `docker.io`; scheme and path
 * are dropped; host names are lowercased.
 */
export function canonicalRegistryHost(value: string): string {
  let host = value.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = host.indexOf("/");
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  if (host === "index.docker.io" || host === "registry-1.docker.io" || host === "registry.hub.docker.com") {
    return DOCKER_HUB;
  }
  return host;
}

/** True for hosts (with or without port) on the loopback interface: `localhost`, `127.0.0.0/8`, `[::1]`. */
export function isLoopbackHost(hostWithPort: string): boolean {
  let host = hostWithPort.toLowerCase();
  if (host.startsWith("[")) {
    host = host.slice(0, host.indexOf("]") + 1);
    return host === "[::1]";
  }
  const colon = host.indexOf(":");
  if (colon >= 0) host = host.slice(0, colon);
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function fromExplicit(registry: string, option: CredentialsOption | undefined): ResolvedCredentials | undefined {
  if (option === undefined) return undefined;
  if (typeof option === "function") {
    const found = option(registry);
    return found === undefined ? undefined : { ...found, source: "the client's credentials option" };
  }
  for (const [key, value] of Object.entries(option)) {
    if (canonicalRegistryHost(key) === registry) return { ...value, source: "the client's credentials option" };
  }
  return undefined;
}

/** Credentials from `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` when they apply to `registry` (see module doc). */
export function credentialsFromEnv(registry: string, env: NodeJS.ProcessEnv = process.env): ResolvedCredentials | undefined {
  const username = env.REGISTRY_USERNAME;
  const password = env.REGISTRY_PASSWORD;
  if ((username === undefined || username === "") && (password === undefined || password === "")) return undefined;
  const hosts = (env.REGISTRY_HOST ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "")
    .map(canonicalRegistryHost);
  if (hosts.length > 0 && !hosts.includes(canonicalRegistryHost(registry))) return undefined;
  if (username === undefined || username === "" || password === undefined || password === "") {
    throw new ConnectorBuildError(
      "REGISTRY_ERROR",
      `registry credentials for ${registry}: ${username ? "REGISTRY_PASSWORD" : "REGISTRY_USERNAME"} is empty while ` +
        `${username ? "REGISTRY_USERNAME" : "REGISTRY_PASSWORD"} is set: expected both, or neither for anonymous access`,
    );
  }
  return { username, password, source: "REGISTRY_USERNAME/REGISTRY_PASSWORD" };
}

/** The Docker client config path: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(homedir(), ".docker");
  return join(dir, "config.json");
}

/** Credentials for `registry` from the `auths` entries of a Docker config file; `undefined` when the file or the entry is absent. */
export function credentialsFromDockerConfig(registry: string, path: string): ResolvedCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConnectorBuildError("REGISTRY_ERROR", `cannot read Docker config ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ConnectorBuildError(
      "REGISTRY_ERROR",
      `cannot parse Docker config ${path}: ${(error as Error).message}: expected JSON such as {"auths": {"<registry>": {"auth": "<base64 user:password>"}}}`,
      { cause: error },
    );
  }
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== "object" || auths === null) return undefined;
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (canonicalRegistryHost(key) !== registry || typeof entry !== "object" || entry === null) continue;
    const { auth, username, password } = entry as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof auth === "string" && auth !== "") {
      const decoded = Buffer.from(auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) {
        throw new ConnectorBuildError(
          "REGISTRY_ERROR",
          `Docker config ${path}: auths["${key}"].auth does not decode to user:password: expected base64 of "<user>:<password>"`,
        );
      }
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: path };
    }
    if (typeof username === "string" && username !== "" && typeof password === "string") {
      return { username, password, source: path };
    }
  }
  return undefined;
}

/** Finds credentials for `registry` (canonical host, see {@link canonicalRegistryHost}) in the sources described in the module doc. */
export function resolveRegistryCredentials(registry: string, sources: CredentialSources = {}): ResolvedCredentials | undefined {
  const host = canonicalRegistryHost(registry);
  const env = sources.env ?? process.env;
  const explicit = fromExplicit(host, sources.credentials);
  if (explicit !== undefined) return explicit;
  const fromEnv = credentialsFromEnv(host, env);
  if (fromEnv !== undefined) return fromEnv;
  if (sources.dockerConfigPath === false) return undefined;
  return credentialsFromDockerConfig(host, sources.dockerConfigPath ?? defaultDockerConfigPath(env));
}

/**
 * Parses a `WWW-Authenticate` header value, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull"`.
 * Returns the first challenge, or `undefined` when the header is absent or unreadable.
 */
export function parseAuthChallenge(header: string | null | undefined): AuthChallenge | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const scheme = (match[1] as string).toLowerCase();
  const rest = match[2] as string;
  const params: Record<string, string> = {};
  const paramPattern = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of rest.matchAll(paramPattern)) {
    const name = (m[1] as string).toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    if (!(name in params)) params[name] = value;
  }
  return { scheme, params };
}

/**
 * Merges token scopes (`repository:<name>:<actions>`), combining the actions asked for the same
 * resource: `repository:a:pull` + `repository:a:push` → `repository:a:pull,push`. Sorted, so the
 * result can key a cache.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const raw of scopes) {
    for (const scope of raw.split(" ")) {
      if (scope === "") continue;
      const last = scope.lastIndexOf(":");
      if (last <= 0) continue;
      const resource = scope.slice(0, last);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of scope.slice(last + 1).split(",")) if (action !== "") actions.add(action);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(",")}`)
    .sort();
}
