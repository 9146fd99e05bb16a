import type { ImageRecipe, Platform } from "@airbyte-ci/base-images";

/** The engines the toolkit can build on. */
export type EngineName = "docker" | "dagger";

/** One build: a recipe, for one platform, with the host directory its files are read from. */
export interface BuildRequest {
  /** The recipe; it must start with `from`. */
  readonly recipe: ImageRecipe;
  /** Target platform. */
  readonly platform: Platform;
  /** Host directory `withFile`/`withDirectory` sources are relative to. Default: an empty context. */
  readonly contextDir?: string;
  /** Secret values by name, for `withSecretVariable`. Never written to a layer, a label or a log. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Receives progress lines (engine output), for stderr. Default: discarded. */
  readonly onProgress?: (line: string) => void;
  /**
   * `none`: build containers get no network at all (offline builds). Default: the engine's
   * (Docker: the host network, so loopback services are reachable). The Dagger engine refuses it
   * (USAGE, before any work): Dagger 0.21 offers clients no per-step network switch.
   */
  readonly network?: "none";
  /** Build every step anew, reusing no cached result. Default: false. */
  readonly noCache?: boolean;
}

/** A build from a connector's own Dockerfile (the image a migration compares with). */
export interface DockerfileBuildRequest {
  /** The build context: the connector folder. Its `.dockerignore` applies, as `docker build` applies it. */
  readonly contextDir: string;
  /** The Dockerfile text (the context's own Dockerfile, or a copy with FROM lines substituted). */
  readonly dockerfile: string;
  /** Target platform. */
  readonly platform: Platform;
  /** Receives progress lines (engine output), for stderr. Default: discarded. */
  readonly onProgress?: (line: string) => void;
}

/** What the engine reports about layer reuse, so tests can assert caching without timing. */
export interface CacheReport {
  /** Recipe operation index → whether the engine reused a cached result for it. */
  readonly steps: ReadonlyArray<{ readonly operation: number; readonly op: string; readonly cached: boolean }>;
}

/** A built image, held by the engine that built it. */
export interface BuiltImage {
  /** The engine that built it. */
  readonly engine: EngineName;
  /** The platform it was built for. */
  readonly platform: Platform;
  /** Engine-specific reference: a Docker image id (`sha256:…`) or a Dagger container id. */
  readonly ref: string;
  /** Layer reuse, when the engine reports it. */
  readonly cache?: CacheReport;
}

/** Result of running an argv in an image. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Options of {@link Engine.run}. */
export interface RunOptions {
  /** Run through the image's entrypoint. Default false (`--entrypoint ""`). */
  readonly useEntrypoint?: boolean;
  /**
   * Stop the run after this many milliseconds and fail (RUN_FAILED) with nothing left running.
   * Docker: the container is removed; Dagger: coreutils `timeout` in the container stops the command
   * and the exec, and with it the container, ends. Default: no limit.
   */
  readonly timeoutMs?: number;
  /** `false`: no network in the container (spec must not need one; Docker only, see {@link Engine.run}). Default: the engine's network. */
  readonly network?: boolean;
}

/** The parts of an image's config that builds and checks look at. */
export interface ImageRunConfig {
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workdir: string;
  readonly user: string;
  readonly architecture: string;
  readonly os: string;
}

/** A multi-platform publish result. */
export interface PublishResult {
  /** `registry/repository:tag@sha256:…` of the index. */
  readonly address: string;
  /** Digest of the index as the registry reports it. */
  readonly digest: string;
  /** Digest of each platform's manifest. */
  readonly platformDigests: Readonly<Partial<Record<Platform, string>>>;
  /** True when the index was pushed by digest only (`untagged` asked and honoured): the tag did not move. */
  readonly untagged?: boolean;
}

/** Options of {@link Engine.publish} beyond the annotations. */
export interface PublishTagOptions {
  /**
   * Push the index by digest only and leave the tag alone, so that the caller moves it last, once
   * everything beside the image (SBOMs, signatures) is in place. An engine that honours it says so
   * with `untagged: true` in its result. Default: false (the tag moves with the publish).
   */
  readonly untagged?: boolean;
}

/** OCI annotations to put on what a publish writes. */
export interface PublishAnnotations {
  /** On the index. Default: none. */
  readonly index?: Readonly<Record<string, string>>;
  /** On each platform's manifest. Default: none. */
  readonly platforms?: Readonly<Partial<Record<Platform, Readonly<Record<string, string>>>>>;
}

/** Options of {@link Engine.publish}. */
export interface PublishOptions extends PublishTagOptions {
  /** Annotations on the published manifests and index. Default: none (the engine's own manifests as they are). */
  readonly annotations?: PublishAnnotations;
}

/** An image given by reference, resolved by an engine: every probe then runs on exactly this image. */
export interface ResolvedImage {
  /** The reference as given: `repo:tag`, `registry/repo@sha256:…`, `repo:tag@sha256:…` or an image id. */
  readonly reference: string;
  /** What identifies the image on its engine: a local Docker image id (`sha256:…`), a Dagger container id. */
  readonly id: string;
  /** What the other engine calls take. */
  readonly image: BuiltImage;
}

/** Options of {@link Engine.resolveImage}. */
export interface ResolveImageOptions {
  /** Platform pulled when the image is not already held by the engine. Default `linux/amd64`. */
  readonly platform?: Platform;
}

/** One platform image of an OCI layout tarball, read into an engine by {@link Engine.importOci}. */
export interface ImportedOciImage {
  readonly platform: Platform;
  /** Digest of its manifest in the tarball. */
  readonly digest: string;
  readonly image: BuiltImage;
  /** The layout's `org.opencontainers.image.ref.name` annotation, when it has one. */
  readonly refName?: string;
}

/** What {@link Engine.importOci} read. */
export interface ImportedOci {
  readonly images: readonly ImportedOciImage[];
  /** Removes from the engine what the import added (images it already held stay). */
  release(): Promise<void>;
}

/** The one contract everything above the engines uses: the only door to containers. */
export interface Engine {
  readonly name: EngineName;
  /**
   * True when a built image's `ref` is a digest of its content (a Docker image id): the same ref is
   * then the same image, byte for byte, and what was verified on it holds. Default: false.
   */
  readonly contentAddressedRefs?: boolean;
  /** Builds a recipe for one platform. A failing step throws BUILD_FAILED naming the operation, argv, exit code and last output lines. */
  build(request: BuildRequest): Promise<BuiltImage>;
  /**
   * Resolves an image by reference (a tag, a digest, a local image id), pulling it when the engine
   * does not hold it, so that images not built by the engine can be run and inspected.
   *
   * @throws ConnectorBuildError `USAGE` when the image cannot be found or pulled, or is for a platform
   * the toolkit does not run.
   */
  resolveImage(reference: string, options?: ResolveImageOptions): Promise<ResolvedImage>;
  /**
   * Runs an argv in an image (the entrypoint is not used unless `useEntrypoint`). `network: false`
   * asks for a container without network (Docker: `--network none`); engines that cannot honour it
   * run with their default network (Dagger 0.21: every exec is in the engine's network, where the
   * host's loopback services are not reachable).
   */
  run(image: BuiltImage, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Reads the image config. */
  inspect(image: BuiltImage): Promise<ImageRunConfig>;
  /** Writes the images (one per platform) as one OCI tarball. */
  exportOci(images: readonly BuiltImage[], file: string): Promise<void>;
  /** Loads an image into the local Docker under `tag`; returns the local image id. */
  loadIntoDocker(image: BuiltImage, tag: string): Promise<string>;
  /** Publishes per-platform images as one multi-platform index at `reference` (`registry/repo:tag`), annotated as asked. */
  publish(images: readonly BuiltImage[], reference: string, options?: PublishOptions): Promise<PublishResult>;
  /**
   * Builds a Dockerfile as `docker build` would (only engines that can: Docker). A file the
   * Dockerfile copies but the context's `.dockerignore` hides fails with the rule that hid it.
   */
  buildDockerfile?(request: DockerfileBuildRequest): Promise<BuiltImage>;
  /**
   * An image the engine already holds under `reference` (a tag, a digest reference or an image id),
   * never pulled; undefined when it holds none (only engines with a local image store: Docker).
   *
   * @throws ConnectorBuildError `USAGE` when it is for a platform the toolkit does not run.
   */
  localImage?(reference: string): Promise<ResolvedImage | undefined>;
  /**
   * Reads the images of an OCI image layout tarball into the engine, one per platform (`platform`:
   * that one only), without a registry (only engines that can: Docker).
   */
  importOci?(file: string, options?: { platform?: Platform }): Promise<ImportedOci>;
  /** Releases engine resources. */
  close(): Promise<void>;
}
