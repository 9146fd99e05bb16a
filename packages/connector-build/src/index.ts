/**
 * `@airbyte-ci/connector-build`: builds Airbyte Python connector images on one common,
 * digest-pinned base image, on Docker or Dagger; releases base images; analyses, migrates and
 * compares connector images. What a pipeline or a connector author uses; everything else is
 * internal. The export list and signatures are recorded in `api-report.md` (checked by the tests).
 *
 * @packageDocumentation
 */

// ---- Errors -----------------------------------------------------------------------------------
/** Errors: one family (`AirbyteCiError`), one code → exit code table. */
export { ConnectorBuildError, EXIT, EXIT_CODES, exitCodeFor, type ConnectorBuildErrorCode, type ErrorCode, type ExitCode } from "./errors.ts";

// ---- Engines ----------------------------------------------------------------------------------
/** The Engine contract: the only door to containers. */
export type {
  BuildRequest,
  BuiltImage,
  CacheReport,
  Engine,
  EngineName,
  ImageConfig,
  PublishAnnotations,
  PublishOptions,
  PublishResult,
  ResolveImageOptions,
  ResolvedImage,
  RunOptions,
  RunResult,
} from "./engines/engine.ts";
/** The Docker engine (BuildKit through the docker CLI). */
export { DockerEngine } from "./engines/docker/docker-engine.ts";
/** `--engine auto|docker|dagger`: opens the Docker or the Dagger engine. */
export { selectEngine, type EngineChoice } from "./engines/select.ts";
/** An in-memory engine for fast tests of pipelines. */
export { FakeEngine, type FakeEngineOptions, type FakeImage, type FakePublication, type FakeRunHandler } from "./engines/fake/fake-engine.ts";

// ---- Catalog and recipes ----------------------------------------------------------------------
/** `--catalog production|local|<file>`: loads a validated base image catalog. */
export { catalogPath, loadCatalog } from "./base-image/catalog-source.ts";
/** The Dockerfile a recipe renders to. */
export { renderDockerfile, type RenderedDockerfile, type RenderedStep } from "./dockerfile/render.ts";
/** The common Python build: metadata.yaml + base image + hooks → recipe. */
export { prepareConnector, pythonConnectorRecipe, type PreparedConnector } from "./connector/python-build.ts";
/** A connector's metadata.yaml, read and validated. */
export { readConnectorMetadata, type ConnectorMetadata } from "./connector/metadata.ts";
/** Points metadata.yaml at another base image, keeping comments and formatting. */
export { setBaseImageInYaml } from "./connector/metadata-edit.ts";

// ---- Build ------------------------------------------------------------------------------------
/** Build-wide package index settings (`--pip-index-url`, `--pip-extra-index-url`), passed to builds as secrets. */
export { type PipIndexOptions } from "./connector/pip-index.ts";
/** The published base image a connector builds FROM, and the OCI labels/annotations naming it. */
export { BASE_DIGEST_KEY, BASE_NAME_KEY, resolvePublishedBase, type PublishedBaseImage } from "./connector/published-base.ts";
/** Builds connectors, verifies each answers `spec`, then outputs them. */
export { buildConnectors, parseBuildOutput, type BuildConnectorsOptions, type BuildOutput, type BuildPhase, type ConnectorBuildResult } from "./connector/build-connectors.ts";

// ---- Base image releases ----------------------------------------------------------------------
/** Releases and publishes base image versions; the catalog is only changed once the registry has them. */
export { publishBaseImage, releaseBaseImage, type ReleaseBump, type ReleaseOptions, type ReleaseResult } from "./base-image/release.ts";
/** What a release asks of a registry. */
export type { ReleaseRegistry } from "./base-image/build-check-publish.ts";
/** Builds a version and runs its sanity checks on every platform. */
export { checkBaseImage, type SanityCheckResult, type SanityReport } from "./base-image/sanity-checks.ts";
/** The Markdown page of a catalog. */
export { renderCatalogDocs } from "./base-image/catalog-docs.ts";
/** A client of the OCI distribution API (tags, digests, manifests, pushes). */
export { RegistryClient, RegistryError, type RegistryClientOptions } from "./registry/registry-client.ts";

// ---- Analyze, migrate, compare ----------------------------------------------------------------
/** Groups a repository's connector Dockerfiles into variants. */
export { analyzeRepository, type AnalyzeOptions, type DockerfileAnalysisReport } from "./analyze/analyze.ts";
export { renderAnalysisMarkdown } from "./analyze/markdown.ts";
/** Compares images' environments and packages against their base images. */
export { analyzeImages, renderImageAnalysisMarkdown, type ImageAnalysisOptions, type ImageAnalysisReport } from "./analyze/image-analysis.ts";
/** Moves a Dockerfile-built connector to the common build. */
export { migrateConnector, type MigrationPlan } from "./migrate/migrate.ts";
/** Compares two images by behaviour. */
export {
  compareImages,
  renderComparisonJson,
  renderComparisonText,
  type CompareOptions,
  type ImageComparison,
  type ImageDifference,
  type ImageInput,
} from "./compare/compare-images.ts";

// ---- Supply chain: rebase, SBOM, lock -------------------------------------------------------------
/** Moves published connector images onto another base version of the same major, without rebuilding. */
export { rebaseImages, type RebaseOptions, type RebaseResult, type RebasedPlatform } from "./supply-chain/rebase.ts";
/** CycloneDX SBOMs of a published image: read the image, publish or fetch the SBOM beside it. */
export { describePublishedImage, fetchSbom, publishSboms, type PublishedSbom } from "./supply-chain/sbom-output.ts";
/** Locks connectors' inputs (base digests, every Python artifact) for offline, hash-checked builds. */
export { lockConnectors, type LockOptions, type LockResult } from "./supply-chain/lock.ts";
export { LOCK_FILE_NAME, readLock, type ConnectorLock, type LockedArtifact } from "./supply-chain/lock-file.ts";

// ---- Locks as of a date (issue #22) -------------------------------------------------------------
/** `lock --as-of`: resolving a connector's dependencies as the index had them on a date, with uv. */
export { parseAsOf, asOfFor, resolveAsOf, checkUploadTimes, findUv, UV_VERSION, type AsOf, type AsOfSpec, type AsOfResolution } from "./supply-chain/as-of.ts";
/** `--ca-bundle`: the secret variable install steps read, and the wrapper that makes a command trust it. */
export { CA_BUNDLE_VARIABLE, withCaBundle } from "./connector/pip-index.ts";
