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
export { ConnectorBuildError, EXIT_CODES, exitCodeFor, type ConnectorBuildErrorCode, type ErrorCode, type ExitCode } from "./errors.ts";

// ---- Engines ----------------------------------------------------------------------------------
/** The Engine contract: the only door to containers. */
export type {
  BuildRequest,
  BuiltImage,
  CacheReport,
  Engine,
  EngineName,
  ImageRunConfig,
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
export { buildConnectors, type BuildConnectorsOptions, type BuildPhase, type ConnectorBuildResult } from "./build/build-connectors.ts";
/** Where built images go. */
export type { BuildOutput } from "./build/output.ts";

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
export { LOCK_FILE_NAME, readLock, type ConnectorLock, type LockedArtifact } from "./connector/lock-file.ts";

// ---- Fleet selection ------------------------------------------------------------------------------
/** The connectors a CI job builds: the folders given, or those changed since a git ref (`modified`), then one shard of them. */
export { selectFleet, type FleetSelection, type FleetSelectionOptions } from "./fleet/select-connectors.ts";
export type { ModifiedSelection, SelectedConnector } from "./fleet/modified.ts";
export type { ShardSpec } from "./fleet/shard.ts";

// ---- Fleet reports and SBOMs of local images ----------------------------------------------------
/** Merges `build --json` results (one file per CI shard) and renders them: a table, Markdown (a CI job summary), an HTML timeline page. */
export { outcomeOf, readBuildResults, renderFleetTable, summarize, type FleetOutcome, type FleetSummary } from "./fleet/report.ts";
export { renderFleetMarkdown } from "./fleet/report-markdown.ts";
export { renderFleetHtml } from "./fleet/report-html.ts";
/** SBOMs of an image of the local Docker or of an OCI layout tarball (`connector-build sbom docker:… / oci:…`). */
export { localImageSbom, ociTarballSbom, parseSbomSource, type SbomSource } from "./supply-chain/sbom-sources.ts";
export type { ImportedOci, ImportedOciImage } from "./engines/engine.ts";

// ---- Trust: signatures and attestations in cosign's format ------------------------------------------
/** Signs a published image (index and platform manifests) and attests its SLSA provenance and SBOMs. */
export { signAndAttest, type SignAndAttestOptions, type SignAndAttestResult } from "./trust/sign-and-attest.ts";
/** Reads signing (PEM ECDSA P-256, cosign's encrypted format) and verification keys. */
export { loadSigningKey, loadVerificationKey, type LoadSigningKeyOptions, type SigningKey } from "./trust/keys.ts";
/** The SLSA provenance v1 statement of a build. */
export { provenanceStatement, type ProvenanceInputs, type ProvenanceStatement } from "./trust/provenance.ts";
/** Verifies a reference's signature and, on request, its provenance (with a base image policy) and SBOM attestations. */
export { verifyImage, type RequiredAttestation, type VerifyCheck, type VerifyImageOptions, type VerifyResult } from "./trust/verify.ts";
/** Options of a registry read (`RegistryClient.resolveDigest`). */
export type { ReadOptions } from "./registry/registry-client.ts";

/** The Dagger engine (the `@dagger.io/dagger` SDK; `_EXPERIMENTAL_DAGGER_RUNNER_HOST` names a running engine). */
export { DaggerEngine, type DaggerEngineOptions } from "./engines/dagger/dagger-engine.ts";

// ---- Locks as of a date (issue #22) -------------------------------------------------------------
/** `lock --as-of <date|git>`: the date a resolution takes the index as it was on (LockOptions.asOf). */
export { parseAsOf, type AsOf, type AsOfSpec, type AsOfResolution, type ResolveAsOfOptions } from "./supply-chain/as-of.ts";
export type { LockedRequirement } from "./supply-chain/python-index.ts";

// ---- Types that the signatures above use ------------------------------------------------------
export type { DependencyInputs, DependencySet, SelfInstall } from "./connector/dependency-inputs.ts";
export type { LoadCustomizationOptions, LoadedCustomization } from "./connector/build-customization.ts";
export type { RecipeOptions, ConnectorRecipe } from "./connector/python-build.ts";
export type { DockerfileBuildRequest, PublishTagOptions } from "./engines/engine.ts";
export type {
  Descriptor,
  FetchedManifest,
  FetchedManifestBase,
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ImagePlatform,
  IndexEntry,
  PutIndexOptions,
  RuntimeConfig,
} from "./registry/oci-types.ts";
export type { RegistryCredentials } from "./registry/registry-auth.ts";
export type { RegistryErrorReason } from "./registry/registry-error.ts";
export type { Log } from "./base-image/build-check-publish.ts";
export type { AnalysisProblem, DockerfileVariant, UnreadableDockerfile, VariantExample } from "./analyze/analyze.ts";
export type { AnalyzedImage, EnvTables, ImageAnalysisProblem } from "./analyze/image-analysis.ts";
export type { ComparedImage, EntriesDiff, ProbedAspect } from "./compare/compare-images.ts";
export type { JsonChange } from "./compare/json-diff.ts";
export type { CoveredInstruction } from "./migrate/plan-dockerfile.ts";
export type { MigrationOptions } from "./migrate/migrate.ts";
export type { FileChange } from "./shared/text-diff.ts";
export type { DebianPackage, ImageContents, PythonDistribution, PythonFile } from "./supply-chain/image-contents.ts";
export type { DescribedPlatform, DescribedReference } from "./supply-chain/sbom-output.ts";
export type { SbomBaseImage } from "./supply-chain/sbom.ts";
export type { DigestSet, ResourceDescriptor } from "./trust/provenance.ts";
