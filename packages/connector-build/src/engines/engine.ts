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
   * (Docker: the host network, so loopback services are reachable). The Dagger engine has no
   * per-build switch and ignores it.
   */
  readonly network?: "none";
  /** Build every step anew, reusing no cached result. Default: false. */
  readonly noCache?: boolean;
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

/** The parts of an image's config that builds and checks look at. */
export interface ImageConfig {
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
}

/** The one contract everything above the engines uses. */
export interface Engine {
  readonly name: EngineName;
  /** Builds a recipe for one platform. A failing step throws BUILD_FAILED naming the operation, argv, exit code and last output lines. */
  build(request: BuildRequest): Promise<BuiltImage>;
  /** Runs an argv in an image (the entrypoint is not used unless `useEntrypoint`). */
  run(image: BuiltImage, argv: readonly string[], options?: { useEntrypoint?: boolean }): Promise<RunResult>;
  /** Reads the image config. */
  inspect(image: BuiltImage): Promise<ImageConfig>;
  /** Writes the images (one per platform) as one OCI tarball. */
  exportOci(images: readonly BuiltImage[], file: string): Promise<void>;
  /** Loads an image into the local Docker under `tag`; returns the local image id. */
  loadIntoDocker(image: BuiltImage, tag: string): Promise<string>;
  /** Publishes per-platform images as one multi-platform index at `reference` (`registry/repo:tag`). */
  publish(images: readonly BuiltImage[], reference: string): Promise<PublishResult>;
  /** Releases engine resources. */
  close(): Promise<void>;
}
