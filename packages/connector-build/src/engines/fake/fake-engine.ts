import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { ImageRecipe, Platform, RecipeOperation } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../../errors.ts";
import type { BuildRequest, BuiltImage, Engine, ImageRunConfig, PublishResult, ResolveImageOptions, ResolvedImage, RunResult } from "../engine.ts";

/** One image the fake engine holds: its recipe (for built ones), config and in-memory files. */
export interface FakeImage {
  readonly image: BuiltImage;
  readonly recipe: ImageRecipe | undefined;
  readonly config: ImageRunConfig;
  /** Files written by `withNewFile` (path → contents). */
  readonly files: ReadonlyMap<string, string>;
}

/** Answers a `run`: return a result, or `undefined` to fall back to the default answer. */
export type FakeRunHandler = (image: FakeImage, argv: readonly string[], options: { useEntrypoint?: boolean }) => RunResult | undefined;

/** Options of {@link FakeEngine}. */
export interface FakeEngineOptions {
  /** Answers runs before the default answers. */
  readonly onRun?: FakeRunHandler;
  /** Argv (joined by spaces) whose build step fails, with the exit code: simulates a failing `withExec`. */
  readonly failingExecs?: Readonly<Record<string, number>>;
}

/** What {@link FakeEngine.publish} recorded. */
export interface FakePublication {
  readonly reference: string;
  readonly digest: string;
  readonly images: readonly BuiltImage[];
}

const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/**
 * An in-memory engine for fast unit tests of what sits above the engines (the connector build,
 * base image releases, probes): builds "run" a recipe by folding it into an image config, runs are
 * answered by a handler (`echo`, `cat` of files the recipe wrote, and `spec` through an entrypoint
 * that prints a SPEC message by default), publications are recorded and readable back through
 * {@link FakeEngine.registry}. Nothing touches a container, a daemon or the network.
 *
 * Not a substitute for the real engines: their own tests run against Docker and Dagger.
 */
export class FakeEngine implements Engine {
  readonly name = "docker" as const;
  /** Every build request, in order. */
  readonly builds: BuildRequest[] = [];
  /** Every run, in order. */
  readonly runs: Array<{ ref: string; argv: readonly string[]; useEntrypoint: boolean }> = [];
  /** Every publication, in order. */
  readonly publications: FakePublication[] = [];
  /** Images loaded "into Docker", by tag. */
  readonly loaded = new Map<string, string>();
  private readonly images = new Map<string, FakeImage>();
  private readonly options: FakeEngineOptions;
  private closed = false;

  constructor(options: FakeEngineOptions = {}) {
    this.options = options;
  }

  /** The image an engine call returned, with its recipe, config and files. */
  held(image: BuiltImage): FakeImage {
    const held = this.images.get(image.ref);
    if (!held) throw new ConnectorBuildError("RUN_FAILED", `the fake engine holds no image ${image.ref}`);
    return held;
  }

  async build(request: BuildRequest): Promise<BuiltImage> {
    this.assertOpen();
    this.builds.push(request);
    const operations = request.recipe.operations;
    if (operations[0]?.op !== "from") {
      throw new ConnectorBuildError("BUILD_FAILED", `cannot build the recipe: it must start with from(<address>), but starts with ${operations[0]?.op ?? "nothing"}`);
    }
    const config = { env: {} as Record<string, string>, labels: {} as Record<string, string>, entrypoint: [] as string[], cmd: [] as string[], workdir: "/", user: "" };
    const files = new Map<string, string>();
    operations.forEach((op, index) => this.apply(op, index, config, files, request));
    const [os = "linux", architecture = "amd64"] = request.platform.split("/");
    const ref = sha256(JSON.stringify({ operations, platform: request.platform }));
    const image: BuiltImage = { engine: "docker", platform: request.platform, ref, cache: { steps: operations.map((op, operation) => ({ operation, op: op.op, cached: false })) } };
    this.images.set(ref, { image, recipe: request.recipe, config: { ...config, os, architecture }, files });
    request.onProgress?.(`fake: built ${operations.length} operations for ${request.platform}`);
    return image;
  }

  private apply(
    op: RecipeOperation,
    index: number,
    config: { env: Record<string, string>; labels: Record<string, string>; entrypoint: string[]; cmd: string[]; workdir: string; user: string },
    files: Map<string, string>,
    request: BuildRequest,
  ): void {
    const at = (path: string) => posix.resolve(config.workdir, path);
    switch (op.op) {
      case "withEnvVariable":
        config.env[op.name] = op.value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => config.env[name] ?? "");
        break;
      case "withLabel":
        config.labels[op.name] = op.value;
        break;
      case "withEntrypoint":
        config.entrypoint = [...op.args];
        break;
      case "withDefaultArgs":
        config.cmd = [...op.args];
        break;
      case "withWorkdir":
        config.workdir = at(op.path);
        break;
      case "withUser":
        config.user = op.name;
        break;
      case "withNewFile":
        files.set(at(op.path), op.contents);
        break;
      case "withSecretVariable":
        if (request.secrets?.[op.secret] === undefined) {
          throw new ConnectorBuildError("BUILD_FAILED", `operation ${index} (withSecretVariable ${op.name}): secret '${op.secret}' was not provided`);
        }
        break;
      case "withExec": {
        const exitCode = this.options.failingExecs?.[op.args.join(" ")];
        if (exitCode !== undefined) {
          throw new ConnectorBuildError("BUILD_FAILED", `build failed at operation ${index} (withExec ${JSON.stringify(op.args)}): exited with code ${exitCode}`);
        }
        break;
      }
      default:
        break;
    }
  }

  /** Resolves any non-empty reference to an empty linux image of `options.platform`. */
  async resolveImage(reference: string, options: ResolveImageOptions = {}): Promise<ResolvedImage> {
    this.assertOpen();
    if (reference.trim() === "") throw new ConnectorBuildError("USAGE", "empty image reference");
    const platform: Platform = options.platform ?? "linux/amd64";
    const ref = sha256(`resolved ${reference} ${platform}`);
    const image: BuiltImage = { engine: "docker", platform, ref };
    const [os = "linux", architecture = "amd64"] = platform.split("/");
    if (!this.images.has(ref)) {
      this.images.set(ref, { image, recipe: undefined, config: { env: {}, labels: {}, entrypoint: [], cmd: [], workdir: "/", user: "", os, architecture }, files: new Map() });
    }
    return { reference, id: ref, image };
  }

  async run(image: BuiltImage, argv: readonly string[], options: { useEntrypoint?: boolean } = {}): Promise<RunResult> {
    this.assertOpen();
    const held = this.held(image);
    this.runs.push({ ref: image.ref, argv, useEntrypoint: options.useEntrypoint ?? false });
    const answer = this.options.onRun?.(held, argv, options);
    if (answer) return answer;
    const full = options.useEntrypoint ? [...held.config.entrypoint, ...argv] : [...argv];
    if (full.at(-1) === "spec" && options.useEntrypoint) {
      return { stdout: `${JSON.stringify({ type: "SPEC", spec: { connectionSpecification: {} } })}\n`, stderr: "", exitCode: 0 };
    }
    if (full[0] === "printenv" && full.length === 2) {
      const value = held.config.env[full[1] as string];
      return value === undefined ? { stdout: "", stderr: "", exitCode: 1 } : { stdout: `${value}\n`, stderr: "", exitCode: 0 };
    }
    if (full[0] === "echo") return { stdout: `${full.slice(1).join(" ")}\n`, stderr: "", exitCode: 0 };
    if (full[0] === "cat" && full[1] !== undefined) {
      const contents = held.files.get(posix.resolve(held.config.workdir, full[1]));
      return contents === undefined ? { stdout: "", stderr: `cat: ${full[1]}: No such file or directory\n`, exitCode: 1 } : { stdout: contents, stderr: "", exitCode: 0 };
    }
    return { stdout: "", stderr: `fake engine: no answer for ${JSON.stringify(full)}\n`, exitCode: 127 };
  }

  async inspect(image: BuiltImage): Promise<ImageRunConfig> {
    this.assertOpen();
    return this.held(image).config;
  }

  async exportOci(images: readonly BuiltImage[], _file: string): Promise<void> {
    for (const image of images) this.held(image);
  }

  async loadIntoDocker(image: BuiltImage, tag: string): Promise<string> {
    this.held(image);
    this.loaded.set(tag, image.ref);
    return image.ref;
  }

  async publish(images: readonly BuiltImage[], reference: string): Promise<PublishResult> {
    this.assertOpen();
    if (reference.includes("@")) throw new ConnectorBuildError("PUBLISH_FAILED", `cannot publish to ${reference}: expected registry/repository:tag`);
    const platformDigests: Partial<Record<Platform, string>> = {};
    for (const image of images) platformDigests[this.held(image).image.platform] = image.ref;
    const digest = sha256(JSON.stringify({ reference, refs: images.map((i) => i.ref) }));
    this.publications.push({ reference, digest, images });
    return { address: `${reference}@${digest}`, digest, platformDigests };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** True once {@link FakeEngine.close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A registry view of what this engine published, with the three calls a release makes of a
   * registry client: `tagExists`, `assertPlatform` (every root image is accepted) and `resolveDigest`.
   */
  get registry(): { tagExists(repository: string, tag: string): Promise<boolean>; assertPlatform(reference: string, platform: Platform): Promise<unknown>; resolveDigest(reference: string): Promise<string> } {
    const find = (reference: string) => [...this.publications].reverse().find((p) => p.reference === reference);
    return {
      tagExists: async (repository, tag) => find(`${repository}:${tag}`) !== undefined,
      assertPlatform: async () => undefined,
      resolveDigest: async (reference) => {
        const found = find(reference);
        if (!found) throw new ConnectorBuildError("REGISTRY_ERROR", `fake registry: ${reference} was not published`);
        return found.digest;
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ConnectorBuildError("ENGINE_UNAVAILABLE", "the fake engine was closed");
  }
}
