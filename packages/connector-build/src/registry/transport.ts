import { formatZodIssues } from "@airbyte-ci/base-images";
import type { z } from "zod";
import {
  canonicalRegistryHost,
  isLoopbackHost,
  mergeScopes,
  parseAuthChallenge,
  resolveRegistryCredentials,
} from "./registry-auth.ts";
import type { AuthChallenge, CredentialsOption, ResolvedCredentials } from "./registry-auth.ts";
import { RegistryError } from "./registry-error.ts";
import { tokenResponseSchema } from "./schemas.ts";


/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Timeout of one request (manifests, tags, tokens), in milliseconds. Default: 30 000. */
  readonly timeoutMs?: number;
  /** Timeout of one blob transfer, body included, in milliseconds. Default: 600 000. */
  readonly blobTimeoutMs?: number;
  /** Explicit credentials, consulted before the environment and the Docker config. */
  readonly credentials?: CredentialsOption;
  /** Environment to read credentials from. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Docker config to read `auths` from, `false` to ignore it. Default: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly dockerConfigPath?: string | false;
  /** `User-Agent` header. */
  readonly userAgent?: string;
}


interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

interface RequestSpec {
  /** What we were doing, for errors: "resolve the digest of 127.0.0.1:5000/python:3.11". */
  readonly operation: string;
  /** What we expected, for errors. */
  readonly expected: string;
  readonly registry: string;
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "PATCH";
  readonly url: string;
  readonly scopes: readonly string[];
  readonly accept?: string;
  readonly contentType?: string;
  readonly body?: Uint8Array;
  /** Statuses returned to the caller instead of raising. */
  readonly ok: readonly number[];
  readonly blob?: boolean;
}

/** API base URL of a registry host: `http://` for loopback, `https://` otherwise; `docker.io` → `https://registry-1.docker.io`. */
export function registryApiBase(registry: string): string {
  const host = canonicalRegistryHost(registry) === "docker.io" ? "registry-1.docker.io" : registry.toLowerCase();
  return `${isLoopbackHost(host) ? "http" : "https"}://${host}`;
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const e = current as { message?: unknown; code?: unknown; cause?: unknown };
    let message = typeof e.message === "string" ? e.message : String(current);
    if (message === "bad port") message = "the port is on the Fetch standard's list of blocked ports (bad port)";
    if (message !== "" && message !== "fetch failed" && !parts.includes(message)) parts.push(message);
    if (typeof e.code === "string" && !parts.some((p) => p.includes(e.code as string))) parts.push(`(${e.code})`);
    current = e.cause;
  }
  return parts.length > 0 ? parts.join(" ") : "fetch failed";
}

export function stripParams(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  const value = contentType.split(";")[0]?.trim() ?? "";
  return value === "" ? undefined : value;
}

export function scopeFor(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}


/**
 * HTTP to one or more registries, with authentication: pre-emptive credentials, bearer tokens per
 * registry and scope (cached until they expire), Basic auth, one retry after a 401 challenge, and
 * errors that name the registry, URL, operation, status and what was expected.
 */
export class RegistryTransport {
  private readonly timeoutMs: number;
  private readonly blobTimeoutMs: number;
  private readonly options: RegistryClientOptions;
  /** `registry scopes` → bearer token. */
  private readonly tokens = new Map<string, CachedToken>();
  /** registry → its bearer challenge (realm, service), once seen. */
  private readonly bearerChallenges = new Map<string, AuthChallenge>();
  /** Registries that asked for Basic auth. */
  private readonly basicRegistries = new Set<string>();
  /** registry → credentials (null: none), resolved once. */
  private readonly credentialCache = new Map<string, ResolvedCredentials | null>();

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.blobTimeoutMs = options.blobTimeoutMs ?? 600_000;
  }

  private credentialsFor(registry: string): ResolvedCredentials | undefined {
    const host = canonicalRegistryHost(registry);
    if (!this.credentialCache.has(host)) {
      const found = resolveRegistryCredentials(host, {
        ...(this.options.credentials !== undefined ? { credentials: this.options.credentials } : {}),
        ...(this.options.env !== undefined ? { env: this.options.env } : {}),
        ...(this.options.dockerConfigPath !== undefined ? { dockerConfigPath: this.options.dockerConfigPath } : {}),
      });
      this.credentialCache.set(host, found ?? null);
    }
    return this.credentialCache.get(host) ?? undefined;
  }

  private tokenKey(registry: string, scopes: readonly string[]): string {
    return `${registry} ${mergeScopes(scopes).join(" ")}`;
  }

  private cachedToken(registry: string, scopes: readonly string[]): string | undefined {
    const key = this.tokenKey(registry, scopes);
    const cached = this.tokens.get(key);
    if (cached === undefined) return undefined;
    if (cached.expiresAt <= Date.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return cached.token;
  }

  /** The Authorization header to send before any challenge: a cached token, a fresh token for a known realm, or Basic for a Basic registry. */
  private async preemptiveAuthorization(spec: RequestSpec): Promise<string | undefined> {
    if (!sameOrigin(spec.url, registryApiBase(spec.registry))) return undefined;
    const cached = this.cachedToken(spec.registry, spec.scopes);
    if (cached !== undefined) return `Bearer ${cached}`;
    const challenge = this.bearerChallenges.get(spec.registry);
    if (challenge !== undefined) return `Bearer ${await this.fetchToken(spec, challenge)}`;
    if (this.basicRegistries.has(spec.registry)) {
      const creds = this.credentialsFor(spec.registry);
      if (creds !== undefined) return basicHeader(creds);
    }
    return undefined;
  }

  private async fetchToken(spec: RequestSpec, challenge: AuthChallenge): Promise<string> {
    const scopes = mergeScopes([...spec.scopes, ...(challenge.params.scope !== undefined ? [challenge.params.scope] : [])]);
    const key = this.tokenKey(spec.registry, spec.scopes);
    const realm = challenge.params.realm;
    if (realm === undefined || realm === "") {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: ${spec.operation}: the Bearer challenge names no realm: expected realm="<token server URL>"`, {
        registry: spec.registry,
        url: spec.url,
        status: 401,
      });
    }
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch (error) {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: ${spec.operation}: the Bearer realm '${realm}' is not a URL: expected the token server URL`, {
        registry: spec.registry,
        cause: error,
      });
    }
    if (challenge.params.service !== undefined) tokenUrl.searchParams.set("service", challenge.params.service);
    for (const scope of scopes) tokenUrl.searchParams.append("scope", scope);
    const creds = this.credentialsFor(spec.registry);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.options.userAgent !== undefined) headers["user-agent"] = this.options.userAgent;
    const sendCreds = creds !== undefined && (tokenUrl.protocol === "https:" || isLoopbackHost(tokenUrl.host));
    if (sendCreds) {
      headers.authorization = basicHeader(creds);
      tokenUrl.searchParams.set("account", creds.username);
    }
    const who = sendCreds ? `as '${creds.username}' (credentials from ${creds.source})` : "anonymously";
    const operation = `get a token for ${scopes.join(" ")} from ${tokenUrl.origin}${tokenUrl.pathname} ${who}, to ${spec.operation}`;
    let res: Response;
    try {
      res = await fetch(tokenUrl, { method: "GET", headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.networkError({ ...spec, blob: false, operation, url: tokenUrl.toString() }, error, "a token server answering at the realm the registry named");
    }
    if (res.status !== 200) {
      const detail = await errorDetail(res);
      throw new RegistryError(
        "AUTH",
        `Registry ${spec.registry}: could not ${operation}: GET ${tokenUrl} returned ${res.status} ${res.statusText}${detail.text}: expected a token` +
          (res.status === 401 || res.status === 403 ? `; ${credentialHint(spec.registry, creds)}` : ""),
        { registry: spec.registry, url: tokenUrl.toString(), status: res.status, registryCodes: detail.codes },
      );
    }
    const body = await this.readJson(res, tokenResponseSchema, "token response", spec.registry, tokenUrl.toString());
    const token = body.token ?? body.access_token;
    if (token === undefined || token === "") {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: the token server ${tokenUrl.origin}${tokenUrl.pathname} answered without "token" or "access_token": expected a bearer token`, {
        registry: spec.registry,
        url: tokenUrl.toString(),
      });
    }
    const lifetime = Math.max(0, (body.expires_in ?? 60) - 5) * 1000;
    const entry = { token, expiresAt: Date.now() + lifetime };
    this.tokens.set(key, entry);
    this.tokens.set(this.tokenKey(spec.registry, scopes), entry);
    return token;
  }

  /** One HTTP exchange with auth: pre-emptive credentials, one retry after a 401 challenge, errors explained. */
  async send(spec: RequestSpec): Promise<Response> {
    let authorization = await this.preemptiveAuthorization(spec);
    let res = await this.fetchOnce(spec, authorization);
    if (res.status === 401) {
      const challenge = parseAuthChallenge(res.headers.get("www-authenticate"));
      let detail = await errorDetail(res);
      let retried = false;
      if (challenge?.scheme === "bearer") {
        // Remember the realm for later requests; the scope is per request.
        const { scope: _scope, error: _error, ...params } = challenge.params;
        this.bearerChallenges.set(spec.registry, { scheme: "bearer", params });
        this.tokens.delete(this.tokenKey(spec.registry, spec.scopes));
        authorization = `Bearer ${await this.fetchToken(spec, challenge)}`;
        res = await this.fetchOnce(spec, authorization);
        retried = true;
      } else if (challenge?.scheme === "basic" && !(authorization ?? "").startsWith("Basic ")) {
        const creds = this.credentialsFor(spec.registry);
        if (creds === undefined) {
          throw new RegistryError(
            "AUTH",
            `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} asks for Basic authentication${detail.text} and no credentials were found: ${credentialHint(spec.registry, undefined)}`,
            { registry: spec.registry, url: spec.url, status: 401, registryCodes: detail.codes },
          );
        }
        const target = new URL(spec.url);
        if (target.protocol !== "https:" && !isLoopbackHost(target.host)) {
          throw new RegistryError("AUTH", `Registry ${spec.registry}: refusing to send credentials over plain http to ${spec.url}: expected https`, {
            registry: spec.registry,
            url: spec.url,
            status: 401,
          });
        }
        this.basicRegistries.add(spec.registry);
        authorization = basicHeader(creds);
        res = await this.fetchOnce(spec, authorization);
        retried = true;
      }
      if (res.status === 401) {
        if (retried) detail = await errorDetail(res);
        const creds = this.credentialsFor(spec.registry);
        const how = challenge === undefined ? " without a WWW-Authenticate challenge" : retried ? ` even with ${challenge.scheme === "bearer" ? "a bearer token" : "credentials"}` : "";
        throw new RegistryError(
          "AUTH",
          `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} returned 401 ${res.statusText}${detail.text}${how}: ` +
            `expected access to ${mergeScopes(spec.scopes).join(" ")}; ${credentialHint(spec.registry, creds)}`,
          { registry: spec.registry, url: spec.url, status: 401, registryCodes: detail.codes },
        );
      }
    }
    if (!spec.ok.includes(res.status)) {
      const detail = await errorDetail(res);
      throw new RegistryError(
        res.status === 403 ? "AUTH" : "HTTP_STATUS",
        `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} returned ${res.status} ${res.statusText}${detail.text}: expected ${spec.expected}`,
        { registry: spec.registry, url: spec.url, status: res.status, registryCodes: detail.codes },
      );
    }
    return res;
  }

  private async fetchOnce(spec: RequestSpec, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (spec.accept !== undefined) headers.accept = spec.accept;
    if (spec.contentType !== undefined) headers["content-type"] = spec.contentType;
    if (authorization !== undefined) headers.authorization = authorization;
    if (this.options.userAgent !== undefined) headers["user-agent"] = this.options.userAgent;
    try {
      return await fetch(spec.url, {
        method: spec.method,
        headers,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        redirect: "follow",
        signal: AbortSignal.timeout(spec.blob ? this.blobTimeoutMs : this.timeoutMs),
      });
    } catch (error) {
      throw this.networkError(spec, error, `a registry serving the OCI distribution API at ${registryApiBase(spec.registry)}/v2/`);
    }
  }

  private networkError(spec: Pick<RequestSpec, "registry" | "operation" | "method" | "url" | "blob">, error: unknown, expected: string): RegistryError {
    const timedOut = (error as { name?: unknown }).name === "TimeoutError";
    const limit = spec.blob ? this.blobTimeoutMs : this.timeoutMs;
    if (timedOut) {
      return new RegistryError(
        "TIMEOUT",
        `Registry ${spec.registry} did not answer in ${limit} ms: cannot ${spec.operation} (${spec.method} ${spec.url}): expected ${expected}`,
        { registry: spec.registry, url: spec.url, cause: error },
      );
    }
    return new RegistryError(
      "UNREACHABLE",
      `Registry ${spec.registry} is unreachable: cannot ${spec.operation} (${spec.method} ${spec.url}): ${describeCause(error)}: expected ${expected}; is it running, and is the address right?`,
      { registry: spec.registry, url: spec.url, cause: error },
    );
  }

  async readBytes(res: Response, where: { operation: string; registry: string; url: string; blob?: boolean }): Promise<Uint8Array> {
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      throw this.networkError({ ...where, method: "GET" }, error, "the complete response body");
    }
  }

  async readJson<T>(res: Response, schema: z.ZodType<T>, what: string, registry: string, url: string): Promise<T> {
    const bytes = await this.readBytes(res, { operation: `read the ${what}`, registry, url });
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch (error) {
      throw new RegistryError("INVALID_MANIFEST", `Registry ${registry}: GET ${url} returned ${what} that is not JSON: ${(error as Error).message}`, {
        registry,
        url,
        cause: error,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RegistryError("INVALID_MANIFEST", `Registry ${registry}: GET ${url} returned malformed ${what}: ${formatZodIssues(parsed.error, what).join("; ")}`, {
        registry,
        url,
      });
    }
    return parsed.data;
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function basicHeader(creds: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, "utf8").toString("base64")}`;
}

function credentialHint(registry: string, creds: ResolvedCredentials | undefined): string {
  return creds === undefined
    ? `no credentials for ${registry}: set REGISTRY_USERNAME/REGISTRY_PASSWORD (optionally REGISTRY_HOST=${registry}) or add an "auths" entry for ${registry} to the Docker config`
    : `the credentials of '${creds.username}' for ${registry} come from ${creds.source}; check them and their permissions`;
}

/** `<url>; rel="next"` → absolute next URL. */
/** The registry's error body, for messages: ` (MANIFEST_UNKNOWN: manifest unknown)`. */
async function errorDetail(res: Response): Promise<{ text: string; codes: string[] }> {
  let raw = "";
  try {
    raw = await res.text();
  } catch {
    return { text: "", codes: [] };
  }
  raw = raw.trim();
  if (raw === "") return { text: "", codes: [] };
  try {
    const json = JSON.parse(raw) as { errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }>; error?: unknown; details?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      const codes: string[] = [];
      const texts = json.errors.map((e) => {
        const code = typeof e.code === "string" ? e.code : "ERROR";
        codes.push(code);
        const detail =
          e.detail === undefined || e.detail === null ? "" : ` [${(typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail)).slice(0, 300)}]`;
        return `${code}: ${typeof e.message === "string" ? e.message : ""}${detail}`;
      });
      return { text: ` (${texts.join("; ")})`, codes };
    }
    const parts = [json.error, json.details].filter((v): v is string => typeof v === "string" && v !== "");
    if (parts.length > 0) return { text: ` (${parts.join(": ")})`, codes: [] };
  } catch {
    // not JSON: quote the start of it
  }
  return { text: ` (${raw.replace(/\s+/g, " ").slice(0, 300)})`, codes: [] };
}

