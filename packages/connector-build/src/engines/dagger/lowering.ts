import { statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import type { ImageRecipe, Platform, RecipeOperation } from "@airbyte-ci/base-images";
import { CacheSharingMode } from "@dagger.io/dagger";
import type { Client, Container, Platform as DaggerPlatform } from "@dagger.io/dagger";
import { ConnectorBuildError } from "../../errors.ts";

/**
 * An object argument of a Dagger call, described by what it designates rather than by its
 * session-scoped id: a host file or directory, a cache volume, or a secret (by name only).
 */
export type DaggerObjectArg =
  | { readonly hostFile: string }
  | { readonly hostDirectory: string }
  | { readonly cacheVolume: string }
  | { readonly secret: string };

/** The value of one argument of a Dagger call. Enum values are their GraphQL names (`SHARED`). */
export type DaggerArgValue = string | number | boolean | readonly string[] | DaggerObjectArg;

/** One field of the Dagger API a recipe lowers to, with the arguments it is called with. */
export interface DaggerCall {
  /** The GraphQL field (and SDK method) name: `container`, `from`, `withExec`, … */
  readonly field: string;
  /** The arguments, by their GraphQL names. Optional arguments that are not set are absent. */
  readonly args: Readonly<Record<string, DaggerArgValue>>;
}

/** Options of {@link lowerRecipe}. */
export interface LowerRecipeOptions {
  /** Host directory `withFile`/`withDirectory` sources are relative to. Default: none (such operations are refused). */
  readonly contextDir?: string;
  /** Secret values by name, for `withSecretVariable`. Default: none (such operations are refused). */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Host loopback services bound right after `from` ({@link loopbackTunnels}). Default: none. */
  readonly hostServices?: readonly HostLoopbackService[];
  /**
   * A value unique to this build: set as {@link CACHE_BUST_VARIABLE} right after `from` and unset at
   * the end, so that no step after `from` has the cache key of an earlier build (`noCache`), while
   * the image's config is the recipe's. Default: none (the engine's cache is used).
   */
  readonly cacheBust?: string;
}

/** The variable {@link LowerRecipeOptions.cacheBust} is set in, during the build only. */
export const CACHE_BUST_VARIABLE = "AIRBYTE_CI_NO_CACHE";

/** A loopback address of the host a build step reaches through a Dagger host service. */
export interface HostLoopbackService {
  /** The hostname the build containers use instead of the loopback host. */
  readonly alias: string;
  /** The loopback host as written (`127.0.0.1`, `localhost`, `[::1]`): where the host side connects. */
  readonly host: string;
  /** The ports forwarded, each to the same port on the host. */
  readonly ports: readonly number[];
}

const LOOPBACK = /(?<=^|[\s/@,;=])(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})(?=$|[\s/?#,;])/g;

/**
 * On Docker, build steps use host networking, so a loopback address in a build secret (a package
 * index on 127.0.0.1, say) is the host's. A Dagger build step has its own network namespace: there
 * the same address reaches nothing. This finds the `host:port` loopback addresses in the secret
 * values, and gives each loopback host an alias (`airbyte-ci-loopback-<n>`) that a Dagger host
 * service (`client.host().service`) answers on the same ports; the secret values are rewritten to
 * the alias. Only secrets are rewritten: they are build-time values that no layer, label or config
 * keeps, so the image is the one Docker builds. An address without a port is left as it is.
 */
export function loopbackTunnels(secrets: Readonly<Record<string, string>> | undefined): {
  secrets: Readonly<Record<string, string>> | undefined;
  services: HostLoopbackService[];
} {
  if (secrets === undefined) return { secrets, services: [] };
  const byHost = new Map<string, { alias: string; ports: Set<number> }>();
  const rewritten: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    rewritten[name] = value.replace(LOOPBACK, (match, host: string, port: string) => {
      const number = Number(port);
      if (number < 1 || number > 65535) return match;
      let entry = byHost.get(host);
      if (!entry) {
        entry = { alias: `airbyte-ci-loopback-${byHost.size + 1}`, ports: new Set() };
        byHost.set(host, entry);
      }
      entry.ports.add(number);
      return `${entry.alias}:${port}`;
    });
  }
  const services = [...byHost].map(([host, { alias, ports }]) => ({ alias, host: host.replace(/^\[(.*)\]$/, "$1"), ports: [...ports].sort((a, b) => a - b) }));
  return { secrets: services.length === 0 ? secrets : rewritten, services };
}

/** Options of {@link daggerCallsFor}. */
export interface DaggerCallsOptions {
  /**
   * When given, host sources are absolute paths resolved against it, exactly as {@link lowerRecipe}
   * sends them. Default: sources are left relative to the build context, as written in the recipe.
   */
  readonly contextDir?: string;
}

const SHARING: Record<NonNullable<Extract<RecipeOperation, { op: "withMountedCache" }>["sharing"]>, CacheSharingMode> = {
  shared: CacheSharingMode.Shared,
  private: CacheSharingMode.Private,
  locked: CacheSharingMode.Locked,
};

/** `operation 3 (withExec ["pip","install"])`: how errors name a recipe operation. */
export function describeRecipeOperation(op: RecipeOperation, index: number): string {
  let detail: string;
  switch (op.op) {
    case "from":
      detail = op.address;
      break;
    case "withExec":
    case "withEntrypoint":
    case "withDefaultArgs":
      detail = JSON.stringify(op.args);
      break;
    case "withEnvVariable":
    case "withLabel":
      detail = op.name;
      break;
    case "withSecretVariable":
      detail = `${op.name} from secret '${op.secret}'`;
      break;
    case "withUser":
      detail = op.name;
      break;
    case "withMountedCache":
      detail = `${op.path} (cache volume ${op.cache})`;
      break;
    case "withFile":
    case "withDirectory":
      detail = `${op.source} → ${op.path}`;
      break;
    default:
      detail = op.path;
  }
  return `operation ${index} (${op.op} ${detail})`;
}

function hostSource(source: string, contextDir: string | undefined): string {
  return contextDir === undefined ? source : resolvePath(contextDir, source);
}

/** The Dagger call one recipe operation lowers to. Pure: no session, no file system. */
function callFor(op: RecipeOperation, contextDir: string | undefined): DaggerCall {
  switch (op.op) {
    case "from":
      return { field: "from", args: { address: op.address } };
    case "withEnvVariable":
      return { field: "withEnvVariable", args: { name: op.name, value: op.value } };
    case "withExec":
      return { field: "withExec", args: { args: [...op.args] } };
    case "withWorkdir":
      return { field: "withWorkdir", args: { path: op.path } };
    case "withFile":
      return {
        field: "withFile",
        args: {
          path: op.path,
          source: { hostFile: hostSource(op.source, contextDir) },
          ...(op.permissions !== undefined ? { permissions: op.permissions } : {}),
        },
      };
    case "withDirectory":
      return { field: "withDirectory", args: { path: op.path, source: { hostDirectory: hostSource(op.source, contextDir) } } };
    case "withNewFile":
      return {
        field: "withNewFile",
        args: { path: op.path, contents: op.contents, ...(op.permissions !== undefined ? { permissions: op.permissions } : {}) },
      };
    case "withLabel":
      return { field: "withLabel", args: { name: op.name, value: op.value } };
    case "withEntrypoint":
      return { field: "withEntrypoint", args: { args: [...op.args] } };
    case "withDefaultArgs":
      return { field: "withDefaultArgs", args: { args: [...op.args] } };
    case "withUser":
      return { field: "withUser", args: { name: op.name } };
    case "withMountedCache":
      return {
        field: "withMountedCache",
        args: {
          path: op.path,
          cache: { cacheVolume: op.cache },
          ...(op.sharing !== undefined ? { sharing: SHARING[op.sharing] } : {}),
        },
      };
    case "withoutMount":
      return { field: "withoutMount", args: { path: op.path } };
    case "withSecretVariable":
      return { field: "withSecretVariable", args: { name: op.name, secret: { secret: op.secret } } };
  }
}

/**
 * The Dagger API calls a recipe lowers to, in order: `container(platform)` then one call per
 * operation, exactly as {@link lowerRecipe} makes them. Object arguments are described
 * ({@link DaggerObjectArg}) instead of carrying session ids; secrets appear by name only, never by
 * value. Used to assert the lowering and to compare it with the Docker rendering.
 */
export function daggerCallsFor(recipe: ImageRecipe, platform: Platform, options: DaggerCallsOptions = {}): DaggerCall[] {
  return [
    { field: "container", args: { platform } },
    ...recipe.operations.map((op) => callFor(op, options.contextDir)),
  ];
}

function fail(op: RecipeOperation, index: number, message: string): ConnectorBuildError {
  return new ConnectorBuildError("BUILD_FAILED", `${describeRecipeOperation(op, index)}: ${message}`);
}

/**
 * Checks what a recipe needs from the host before anything is sent to an engine: every
 * `withFile`/`withDirectory` source exists in the build context with the right type, and every
 * secret has a value. Throws BUILD_FAILED naming the first operation that cannot be lowered.
 */
export function checkLoweringInputs(recipe: ImageRecipe, options: LowerRecipeOptions = {}): void {
  recipe.operations.forEach((op, index) => {
    if (op.op === "withFile" || op.op === "withDirectory") {
      if (options.contextDir === undefined) {
        throw fail(op, index, `reads '${op.source}' from the build context, but the build was given no context directory`);
      }
      const source = resolvePath(options.contextDir, op.source);
      const stat = statSync(source, { throwIfNoEntry: false });
      const wanted = op.op === "withFile" ? "file" : "directory";
      if (!stat) throw fail(op, index, `${source} does not exist: expected a ${wanted} in the build context ${options.contextDir}`);
      if (op.op === "withFile" ? !stat.isFile() : !stat.isDirectory()) {
        throw fail(op, index, `${source} is not a ${wanted}`);
      }
    }
    if (op.op === "withSecretVariable" && options.secrets?.[op.secret] === undefined) {
      throw fail(op, index, `needs the secret '${op.secret}', but no value was given for it: pass it to the build`);
    }
  });
}

function applyCall(client: Client, container: Container, call: DaggerCall, secrets: LowerRecipeOptions["secrets"]): Container {
  const a = call.args as Record<string, unknown>;
  const str = (name: string) => a[name] as string;
  const list = (name: string) => [...(a[name] as readonly string[])];
  const perms = a.permissions === undefined ? {} : { permissions: a.permissions as number };
  switch (call.field) {
    case "from":
      return container.from(str("address"));
    case "withEnvVariable":
      return container.withEnvVariable(str("name"), str("value"));
    case "withExec":
      return container.withExec(list("args"));
    case "withWorkdir":
      return container.withWorkdir(str("path"));
    case "withFile":
      // noCache: the engine otherwise serves a path it already read in this session as it was then, so a
      // rebuild after an edit would not see the edit. Reloaded content is still content-addressed:
      // unchanged files keep every later step cached.
      return container.withFile(str("path"), client.host().file((a.source as { hostFile: string }).hostFile, { noCache: true }), perms);
    case "withDirectory":
      return container.withDirectory(str("path"), client.host().directory((a.source as { hostDirectory: string }).hostDirectory, { noCache: true }));
    case "withNewFile":
      return container.withNewFile(str("path"), str("contents"), perms);
    case "withLabel":
      return container.withLabel(str("name"), str("value"));
    case "withEntrypoint":
      return container.withEntrypoint(list("args"));
    case "withDefaultArgs":
      return container.withDefaultArgs(list("args"));
    case "withUser":
      return container.withUser(str("name"));
    case "withMountedCache": {
      const cache = client.cacheVolume((a.cache as { cacheVolume: string }).cacheVolume);
      return container.withMountedCache(str("path"), cache, a.sharing === undefined ? {} : { sharing: a.sharing as CacheSharingMode });
    }
    case "withoutMount":
      return container.withoutMount(str("path"));
    case "withSecretVariable": {
      const name = (a.secret as { secret: string }).secret;
      const value = secrets?.[name];
      if (value === undefined) throw new ConnectorBuildError("BUILD_FAILED", `no value was given for the secret '${name}'`);
      return container.withSecretVariable(str("name"), client.setSecret(name, value));
    }
    default:
      throw new ConnectorBuildError("BUILD_FAILED", `cannot lower the Dagger call ${call.field}`);
  }
}

/**
 * Lowers a recipe onto the Dagger API, one operation to one Container call
 * (`client.container({ platform }).from(…).withEnvVariable(…)…`). Nothing runs yet: the returned
 * Container is lazy until it is synced, published or exported.
 *
 * - `withFile`/`withDirectory` read their source from the host through `client.host()`, resolved
 *   against `contextDir`, reloaded on every build (`noCache`) so that edits between builds of one
 *   session are seen;
 * - `withMountedCache` mounts `client.cacheVolume(name)` with the recipe's sharing mode;
 * - `withSecretVariable` hands the value to the engine once, through `client.setSecret(name, value)`,
 *   and references the secret by id: it is never set as a plain environment variable;
 * - `cacheBust` (a build with `noCache`) is a build-time variable only: every step after `from` runs
 *   anew, the image's environment is the recipe's.
 *
 * Inputs are checked first ({@link checkLoweringInputs}): a missing source or secret throws BUILD_FAILED.
 */
export function lowerRecipe(client: Client, recipe: ImageRecipe, platform: Platform, options: LowerRecipeOptions = {}): Container {
  checkLoweringInputs(recipe, options);
  const [first, ...calls] = daggerCallsFor(recipe, platform, options.contextDir === undefined ? {} : { contextDir: options.contextDir });
  let container = client.container({ platform: (first as DaggerCall).args.platform as DaggerPlatform });
  for (const [index, call] of calls.entries()) {
    container = applyCall(client, container, call, options.secrets);
    if (index === 0) {
      if (options.cacheBust !== undefined) container = container.withEnvVariable(CACHE_BUST_VARIABLE, options.cacheBust);
      for (const service of options.hostServices ?? []) {
        const tunnel = client.host().service(service.ports.map((port) => ({ frontend: port, backend: port })), { host: service.host });
        container = container.withServiceBinding(service.alias, tunnel);
      }
    }
  }
  return options.cacheBust !== undefined ? container.withoutEnvVariable(CACHE_BUST_VARIABLE) : container;
}
