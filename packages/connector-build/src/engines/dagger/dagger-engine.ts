import { mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, resolve as resolvePath } from "node:path";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import type { Writable } from "node:stream";
import { ImageRecipe } from "@airbyte-ci/base-images";
import type { Platform, RecipeOperation } from "@airbyte-ci/base-images";
import { ExecError, GraphQLRequestError, ImageMediaTypes, NotAwaitedRequestError, ReturnType, UnknownDaggerError, connect } from "@dagger.io/dagger";
import type { Client, ConnectOpts, Container, ContainerID } from "@dagger.io/dagger";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import type { ConnectorBuildErrorCode } from "../../errors.ts";
import { loadTarballIntoDocker } from "../docker/load-tarball.ts";
import { flattenOciIndex } from "./oci-layout.ts";
import { checkLoweringInputs, describeRecipeOperation, loopbackTunnels, lowerRecipe } from "./lowering.ts";
import type { LowerRecipeOptions } from "./lowering.ts";
import type { BuildRequest, BuiltImage, Engine, ImageConfig, PublishOptions, PublishResult, ResolveImageOptions, ResolvedImage, RunResult } from "../engine.ts";

export { daggerCliAvailable, daggerSessionAvailable } from "./discovery.ts";

/** Options of {@link DaggerEngine}. Every field is optional. */
export interface DaggerEngineOptions {
  /** Docker client for {@link DaggerEngine.loadIntoDocker}. Default: the one the Docker engine discovers (engines/docker/docker-client.ts). */
  readonly dockerCli?: string;
  /** Where a provisioned session writes its own log (the SDK's `LogOutput`). Default: discarded. */
  readonly logOutput?: Writable;
  /** Working directory of a provisioned session. Default: the current directory. */
  readonly workdir?: string;
  /** Directory for temporary tarballs. Default: the OS temporary directory. */
  readonly tmpDir?: string;
}

interface Session {
  readonly client: Client;
  readonly release: () => Promise<void>;
}

/** What a built container still carries that the image it stands for does not: build-time mounts and secrets. */
interface BuildResidue {
  readonly mounts: readonly string[];
  readonly secretVariables: readonly string[];
}

interface Held {
  readonly container: Container;
  readonly platform: Platform;
  readonly residue: BuildResidue;
}

function residueOf(recipe: ImageRecipe): BuildResidue {
  const mounts = new Set<string>();
  const secretVariables = new Set<string>();
  let workdir: string | undefined;
  const absolute = (p: string) => (p.startsWith("/") || workdir === undefined ? p : posix.resolve(workdir, p));
  for (const op of recipe.operations) {
    if (op.op === "withWorkdir") workdir = absolute(op.path);
    else if (op.op === "withMountedCache") mounts.add(absolute(op.path));
    else if (op.op === "withoutMount") mounts.delete(absolute(op.path));
    else if (op.op === "withSecretVariable") secretVariables.add(op.name);
  }
  return { mounts: [...mounts], secretVariables: [...secretVariables] };
}

function platformParts(platform: string): { os: string; architecture: string } {
  const [os = "", architecture = ""] = platform.split("/");
  return { os, architecture };
}

/** True for errors that mean the engine could not be reached at all (refused, reset, unknown host). */
function isConnectionError(error: unknown): boolean {
  if (error instanceof NotAwaitedRequestError) return true;
  if (error instanceof GraphQLRequestError) {
    const status = (error.response as { status?: number } | undefined)?.status;
    return status === 401 || status === 403;
  }
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown; errno?: unknown }).code ?? (current as { errno?: unknown }).errno;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Builds recipes on a Dagger engine through `@dagger.io/dagger`: each recipe operation lowers to one
 * Container call ({@link lowerRecipe}), a build syncs the container and keeps it, and
 * `BuiltImage.ref` is the container id. Publishing and exporting pass every platform's container
 * as `platformVariants`, so several platforms become one index.
 *
 * The session is opened on first use: attached to `DAGGER_SESSION_PORT`/`DAGGER_SESSION_TOKEN`
 * when they are set (nothing is spawned), else provisioned by the Dagger CLI (which honours
 * `_EXPERIMENTAL_DAGGER_RUNNER_HOST`). {@link DaggerEngine.close} ends it.
 */
export class DaggerEngine implements Engine {
  /** Always `dagger`. */
  readonly name = "dagger" as const;
  private readonly options: DaggerEngineOptions;
  private session: Promise<Session> | undefined;
  private readonly held = new Map<string, Held>();
  /** Every secret value this engine was given, to scrub them from error messages. */
  private readonly secretValues = new Set<string>();

  constructor(options: DaggerEngineOptions = {}) {
    this.options = options;
  }

  /** The SDK client of this engine's session, opening the session when needed. */
  async client(): Promise<Client> {
    this.session ??= this.openSession().catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    return (await this.session).client;
  }

  private async openSession(): Promise<Session> {
    const attached = Boolean(process.env.DAGGER_SESSION_PORT);
    const where = attached ? `the Dagger session on 127.0.0.1:${process.env.DAGGER_SESSION_PORT}` : "a Dagger session provisioned by the Dagger CLI";
    // The SDK picks its CLI from _EXPERIMENTAL_DAGGER_CLI_BIN, which the CLI sets; the engine never edits process.env.
    let resolveClient!: (client: Client) => void;
    let rejectClient!: (error: unknown) => void;
    const clientReady = new Promise<Client>((resolve, reject) => {
      resolveClient = resolve;
      rejectClient = reject;
    });
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const connectOptions: ConnectOpts = {
      ...(this.options.logOutput ? { LogOutput: this.options.logOutput } : {}),
      ...(this.options.workdir ? { Workdir: this.options.workdir } : {}),
    };
    // `connect` scopes a session to a callback; the callback holds it open until close().
    const done = connect(async (client) => {
      resolveClient(client);
      await ended;
    }, connectOptions).catch((error: unknown) => {
      rejectClient(error);
    });

    let client: Client;
    try {
      client = await clientReady;
    } catch (error) {
      throw new ConnectorBuildError("ENGINE_UNAVAILABLE", `could not open ${where}: ${this.scrub(messageOf(error))}`, { cause: error });
    }
    const release = async () => {
      end();
      await done;
    };
    try {
      await client.version();
    } catch (error) {
      await release();
      throw new ConnectorBuildError(
        "ENGINE_UNAVAILABLE",
        `${where} did not answer: ${this.scrub(messageOf(error))}: expected a Dagger engine (set DAGGER_SESSION_PORT/DAGGER_SESSION_TOKEN, _EXPERIMENTAL_DAGGER_RUNNER_HOST, or install the dagger CLI)`,
        { cause: this.safeCause(error) },
      );
    }
    return { client, release };
  }

  async build(request: BuildRequest): Promise<BuiltImage> {
    const { recipe, platform } = request;
    const first = recipe.operations[0];
    if (first?.op !== "from") {
      throw new ConnectorBuildError(
        "BUILD_FAILED",
        `cannot build the recipe on Dagger: it must start with from(<digest-pinned address>), but starts with ${first?.op ?? "nothing"}`,
      );
    }
    for (const value of Object.values(request.secrets ?? {})) if (value !== "") this.secretValues.add(value);
    // Loopback addresses in secrets (a local package index) reach the host through host services.
    const tunnels = loopbackTunnels(request.secrets);
    for (const value of Object.values(tunnels.secrets ?? {})) if (value !== "") this.secretValues.add(value);
    const loweringOptions = {
      ...(request.contextDir !== undefined ? { contextDir: resolvePath(request.contextDir) } : {}),
      ...(tunnels.secrets !== undefined ? { secrets: tunnels.secrets } : {}),
      ...(tunnels.services.length > 0 ? { hostServices: tunnels.services } : {}),
    };
    checkLoweringInputs(recipe, loweringOptions);
    const client = await this.client();
    const container = lowerRecipe(client, recipe, platform, loweringOptions);
    request.onProgress?.(`dagger: building ${recipe.operations.length} operations for ${platform}`);
    let ref: string;
    let synced: Container;
    try {
      synced = await container.sync();
      ref = await synced.id();
    } catch (error) {
      throw await this.buildError(error, client, recipe, platform, loweringOptions);
    }
    request.onProgress?.(`dagger: built ${platform}`);
    this.held.set(ref, { container: synced, platform, residue: residueOf(recipe) });
    return { engine: "dagger", platform, ref };
  }

  /** Names the failing operation of a build error: by the failed argv, probing prefixes when it is ambiguous. */
  private async buildError(
    error: unknown,
    client: Client,
    recipe: ImageRecipe,
    platform: Platform,
    loweringOptions: LowerRecipeOptions,
  ): Promise<ConnectorBuildError> {
    if (isConnectionError(error)) return this.wrap("ENGINE_UNAVAILABLE", `the Dagger engine went away during the build for ${platform}`, error);
    if (!(error instanceof ExecError)) return this.wrap("BUILD_FAILED", `Dagger build for ${platform} failed`, error);

    const execs = recipe.operations.flatMap((op, index) => (op.op === "withExec" ? [{ op, index }] : []));
    const same = execs.filter(({ op }) => sameArgv(op.args, error.cmd));
    let culprit = same.length === 1 ? same[0] : undefined;
    if (!culprit) {
      // Several (or no) withExec have this argv: the first prefix of the recipe that fails is the culprit.
      for (const candidate of same.length > 1 ? same : execs) {
        const prefix = recipe.operations.slice(0, candidate.index + 1);
        try {
          await lowerRecipe(client, prefixOf(prefix), platform, loweringOptions).sync();
        } catch (probe) {
          if (probe instanceof ExecError) {
            culprit = candidate;
            break;
          }
        }
      }
    }
    const where = culprit ? describeRecipeOperation(culprit.op, culprit.index) : `a withExec of the recipe (${JSON.stringify(error.cmd)})`;
    const output = lastLines(`${error.stdout}\n${error.stderr}`);
    return new ConnectorBuildError(
      "BUILD_FAILED",
      this.scrub(
        `Dagger build for ${platform} failed at ${where}: ${JSON.stringify(error.cmd)} exited with code ${error.exitCode}\nlast output:\n${output || "(none)"}`,
      ),
      { cause: this.safeCause(error) },
    );
  }

  /**
   * Resolves a reference in the engine's registry view (`container.from`), for `options.platform`
   * (default linux/amd64); the container is held like a built one. Local Docker image ids cannot be
   * resolved on Dagger.
   */
  async resolveImage(reference: string, options: ResolveImageOptions = {}): Promise<ResolvedImage> {
    const trimmed = reference.trim();
    if (trimmed === "") throw new ConnectorBuildError("USAGE", "empty image reference: expected repo:tag or registry/repo@sha256:…");
    if (/^(sha256:)?[0-9a-f]{12,64}$/.test(trimmed)) {
      throw new ConnectorBuildError("USAGE", `image ${trimmed} is a local image id: the Dagger engine resolves references from a registry (repo:tag or registry/repo@sha256:…)`);
    }
    const platform = options.platform ?? "linux/amd64";
    const client = await this.client();
    let ref: string;
    let synced: Container;
    try {
      synced = await client.container({ platform: platform as never }).from(trimmed).sync();
      ref = await synced.id();
    } catch (error) {
      if (isConnectionError(error)) throw this.wrap("ENGINE_UNAVAILABLE", `the Dagger engine went away resolving ${trimmed}`, error);
      throw this.wrap("USAGE", `image ${trimmed} could not be pulled for ${platform}`, error);
    }
    this.held.set(ref, { container: synced, platform, residue: { mounts: [], secretVariables: [] } });
    return { reference: trimmed, id: ref, image: { engine: "dagger", platform, ref } };
  }

  async run(image: BuiltImage, argv: readonly string[], options: { useEntrypoint?: boolean } = {}): Promise<RunResult> {
    if (!options.useEntrypoint && argv.length === 0) {
      throw new ConnectorBuildError("RUN_FAILED", "run: an argv is required when the entrypoint is not used");
    }
    const held = await this.resolve(image, "RUN_FAILED");
    // Run the image as it would run elsewhere: without the build's cache mounts and secrets.
    let container = held.container;
    for (const mount of held.residue.mounts) container = container.withoutMount(mount);
    for (const name of held.residue.secretVariables) container = container.withoutSecretVariable(name);
    try {
      const done = await container
        .withExec([...argv], { expect: ReturnType.Any, ...(options.useEntrypoint ? { useEntrypoint: true } : {}) })
        .sync();
      const [stdout, stderr, exitCode] = await Promise.all([done.stdout(), done.stderr(), done.exitCode()]);
      return { stdout, stderr, exitCode };
    } catch (error) {
      if (isConnectionError(error)) throw this.wrap("ENGINE_UNAVAILABLE", `the Dagger engine went away running ${JSON.stringify(argv)}`, error);
      if (error instanceof ExecError) {
        throw new ConnectorBuildError(
          "RUN_FAILED",
          this.scrub(`${JSON.stringify(argv)} in the ${image.platform} image ended abnormally (exit code ${error.exitCode}):\n${lastLines(`${error.stdout}\n${error.stderr}`) || "(no output)"}`),
          { cause: this.safeCause(error) },
        );
      }
      throw this.wrap("RUN_FAILED", `could not run ${JSON.stringify(argv)} in the ${image.platform} image`, error);
    }
  }

  async inspect(image: BuiltImage): Promise<ImageConfig> {
    const { container } = await this.resolve(image, "RUN_FAILED");
    try {
      const [envVariables, labels, entrypoint, cmd, workdir, user, platform] = await Promise.all([
        container.envVariables(),
        container.labels(),
        container.entrypoint(),
        container.defaultArgs(),
        container.workdir(),
        container.user(),
        container.platform(),
      ]);
      const env: Record<string, string> = {};
      for (const [name, value] of await Promise.all(envVariables.map((v) => Promise.all([v.name(), v.value()])))) env[name] = value;
      const labelMap: Record<string, string> = {};
      for (const [name, value] of await Promise.all(labels.map((l) => Promise.all([l.name(), l.value()])))) labelMap[name] = value;
      return { env, labels: labelMap, entrypoint, cmd, workdir, user, ...platformParts(platform) };
    } catch (error) {
      throw this.wrap(isConnectionError(error) ? "ENGINE_UNAVAILABLE" : "RUN_FAILED", `could not read the config of the ${image.platform} image`, error);
    }
  }

  async exportOci(images: readonly BuiltImage[], file: string): Promise<void> {
    const variants = await this.variants(images, "EXPORT_FAILED");
    const target = resolvePath(file);
    mkdirSync(dirname(target), { recursive: true });
    // Written beside the target and renamed: a failed export leaves no partial tarball.
    const partial = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString("hex")}.partial`);
    const client = await this.client();
    try {
      await client.container().export(partial, { platformVariants: variants });
      // One descriptor per platform with its platform, as the Docker engine writes it.
      await flattenOciIndex(partial, this.options.tmpDir);
      renameSync(partial, target);
    } catch (error) {
      rmSync(partial, { force: true });
      throw this.wrap(isConnectionError(error) ? "ENGINE_UNAVAILABLE" : "EXPORT_FAILED", `could not export ${images.length} image(s) to ${target}`, error);
    }
  }

  async loadIntoDocker(image: BuiltImage, tag: string): Promise<string> {
    const { container } = await this.resolve(image, "EXPORT_FAILED");
    const work = mkdtempSync(join(this.options.tmpDir ?? tmpdir(), "airbyte-ci-dagger-"));
    try {
      const tarball = join(work, "image.tar");
      try {
        await container.export(tarball, { mediaTypes: ImageMediaTypes.Docker });
      } catch (error) {
        throw this.wrap(isConnectionError(error) ? "ENGINE_UNAVAILABLE" : "EXPORT_FAILED", `could not export the ${image.platform} image as a tarball`, error);
      }
      return await loadTarballIntoDocker(tarball, tag, image.platform, this.options.dockerCli);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * Publishes the platform variants as one index. Per-platform annotations go on each variant's
   * manifest (`withAnnotation`); Dagger's publish takes no index annotations, so `annotations.index`
   * is not written by this engine.
   */
  async publish(images: readonly BuiltImage[], reference: string, options: PublishOptions = {}): Promise<PublishResult> {
    if (reference.includes("@")) {
      throw new ConnectorBuildError("PUBLISH_FAILED", `cannot publish to ${reference}: expected registry/repository:tag, without a digest`);
    }
    const variants = (await this.variants(images, "PUBLISH_FAILED")).map((container, i) => {
      const platform = images[i]?.platform;
      const annotations = platform === undefined ? undefined : options.annotations?.platforms?.[platform];
      let annotated = container;
      for (const [name, value] of Object.entries(annotations ?? {})) annotated = annotated.withAnnotation(name, value);
      return annotated;
    });
    const client = await this.client();
    let address: string;
    try {
      address = await client.container().publish(reference, { platformVariants: variants });
    } catch (error) {
      throw this.wrap(isConnectionError(error) ? "ENGINE_UNAVAILABLE" : "PUBLISH_FAILED", `could not publish ${images.map((i) => i.platform).join(", ")} to ${reference}`, error);
    }
    const digest = /@(sha256:[0-9a-f]{64})$/.exec(address)?.[1];
    if (!digest) {
      throw new ConnectorBuildError("PUBLISH_FAILED", `publishing ${reference} answered '${address}': expected an address ending in @sha256:<64 hex digits>`);
    }
    // Dagger reports the index digest only; per-platform manifest digests are left to the registry.
    return { address, digest, platformDigests: {} };
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.held.clear();
    if (!session) return;
    const opened = await session.catch(() => undefined);
    await opened?.release();
  }

  private async resolve(image: BuiltImage, code: ConnectorBuildErrorCode): Promise<Held> {
    if (image.engine !== "dagger") {
      throw new ConnectorBuildError(code, `the Dagger engine cannot use an image built by the ${image.engine} engine (${image.ref})`);
    }
    const held = this.held.get(image.ref);
    if (held) return held;
    // An id from another session of the same engine: load it; nothing is known of its build residue.
    const client = await this.client();
    return { container: client.loadContainerFromID(image.ref as ContainerID), platform: image.platform, residue: { mounts: [], secretVariables: [] } };
  }

  private async variants(images: readonly BuiltImage[], code: ConnectorBuildErrorCode): Promise<Container[]> {
    if (images.length === 0) throw new ConnectorBuildError(code, "no image was given: expected one built image per platform");
    const seen = new Set<string>();
    for (const image of images) {
      if (seen.has(image.platform)) {
        throw new ConnectorBuildError(code, `two images were given for ${image.platform}: expected one image per platform`);
      }
      seen.add(image.platform);
    }
    return Promise.all(images.map(async (image) => (await this.resolve(image, code)).container));
  }

  /** Replaces every secret value this engine was given by `***`. */
  private scrub(text: string): string {
    let out = text;
    for (const value of this.secretValues) out = out.split(value).join("***");
    return out;
  }

  /** The error itself, unless it (its request, say) carries a secret value: then a scrubbed copy. */
  private safeCause(error: unknown): unknown {
    const dump = inspect(error, { depth: 6 });
    for (const value of this.secretValues) if (dump.includes(value)) return new Error(this.scrub(messageOf(error)));
    return error;
  }

  private wrap(code: ConnectorBuildErrorCode, what: string, error: unknown): ConnectorBuildError {
    if (error instanceof ConnectorBuildError) return error;
    return new ConnectorBuildError(code, this.scrub(`${what}: ${messageOf(error)}`), { cause: this.safeCause(error) });
  }
}

function messageOf(error: unknown): string {
  if (error instanceof UnknownDaggerError && error.cause instanceof Error) return `${error.message}: ${error.cause.message}`;
  if (error instanceof GraphQLRequestError) {
    const status = (error.response as { status?: number } | undefined)?.status;
    if (status !== undefined && status !== 200) return `${error.message} (HTTP ${status})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

function prefixOf(operations: readonly RecipeOperation[]): ImageRecipe {
  return ImageRecipe.fromOperations(operations.map((op) => structuredClone(op)));
}

