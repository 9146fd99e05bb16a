export { ConnectorBuildError, lastLines, type ConnectorBuildErrorCode } from "./errors.ts";
export type { BuildRequest, BuiltImage, CacheReport, Engine, EngineName, ImageConfig, PublishResult, RunResult } from "./engines/engine.ts";
export { DockerEngine, exportOciLayout, inspectDockerImage, parseBuildkitProgress } from "./engines/docker-engine.ts";
export { findDockerClient, type DockerClient } from "./engines/docker-client.ts";
export { renderDockerfile, type RenderedDockerfile, type RenderedStep } from "./engines/dockerfile.ts";
export { selectEngine, type EngineChoice } from "./engines/select-engine.ts";
export { publishImages, parsePublishReference } from "./engines/publish.ts";
export { catalogPath, findLocalCatalog, loadCatalog } from "./catalog-source.ts";
export { checkBaseImage, formatSanityReport, runSanityChecks, type SanityCheckResult, type SanityReport } from "./sanity-checks.ts";
export {
  METADATA_FILE_NAME,
  connectorMetadataSchema,
  inspectConnectorMetadata,
  readConnectorMetadata,
  type ConnectorMetadata,
} from "./metadata.ts";
export { setBaseImageInYaml } from "./metadata-edit.ts";
export { BUILD_CUSTOMIZATION_FILES, loadBuildCustomization } from "./connector/build-customization.ts";
export { CONNECTOR_CODE_DIR, DEPENDENCY_MANIFESTS, prepareConnector, pythonConnectorRecipe, type PreparedConnector } from "./connector/python-build.ts";
export { buildConnectors, parseBuildOutput, verifySpec, type BuildConnectorsOptions, type BuildOutput, type ConnectorBuildResult } from "./connector/build-connectors.ts";
export { deriveVersion, lockCatalog, nextVersion, publishBaseImage, releaseBaseImage, renderCatalogDocs, type ReleaseBump, type ReleaseResult } from "./release.ts";
export { RegistryClient, RegistryError, MEDIA_TYPES, type FetchedManifest, type IndexEntry, type RegistryClientOptions } from "./registry/registry-client.ts";
export { analyzeRepository, renderAnalysisMarkdown } from "./analyze/index.ts";
export { writeFileAtomic } from "./fs-atomic.ts";
export * from "./compare/index.ts";
export { analyzeImages, renderImageAnalysisMarkdown } from "./analyze/image-analysis.ts";
export { migrateConnector, planDockerfile, renderBuildCustomization, type MigrationPlan } from "./migrate/migrate.ts";
export { rebaseImages, type RebaseOptions, type RebaseResult, type RebasedPlatform } from "./supply-chain/rebase.ts";
export { rebasePlatformImage, rebaseEnv, rebaseLabels } from "./supply-chain/rebase-image.ts";
export { BASE_DIGEST_LABEL, BASE_NAME_LABEL } from "./supply-chain/image-config.ts";
export { readImageContents, type ImageContents, type DebianPackage, type PythonDistribution } from "./supply-chain/image-contents.ts";
export { CYCLONEDX_MEDIA_TYPE, imageSbom, indexSbom, serializeSbom, type SbomBaseImage, type SbomSubject } from "./supply-chain/sbom.ts";
export { describePublishedImage, fetchSbom, publishSboms, sbomTag, writeOciSboms, type PublishedSbom } from "./supply-chain/sbom-output.ts";
export { LOCK_FILE_NAME, connectorLockSchema, readLock, lockMismatches, type ConnectorLock, type LockedArtifact } from "./supply-chain/lock-file.ts";
export { lockConnectors, DEFAULT_INDEX_URL, type LockOptions, type LockResult } from "./supply-chain/lock.ts";
export { publishReproducible, sourceDateEpoch, withSourceDateEpoch } from "./supply-chain/reproducible.ts";
export { normalizeTar } from "./supply-chain/tar-normalize.ts";
