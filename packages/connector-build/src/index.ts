export { ConnectorBuildError, lastLines, type ConnectorBuildErrorCode } from "./errors.ts";
export type { BuildRequest, BuiltImage, CacheReport, Engine, EngineName, ImageConfig, PublishResult, RunResult } from "./engines/engine.ts";
export { DockerEngine, exportOciLayout, inspectDockerImage, parseBuildkitProgress } from "./engines/docker/docker-engine.ts";
export { findDockerClient, type DockerClient } from "./engines/docker/docker-client.ts";
export { renderDockerfile, type RenderedDockerfile, type RenderedStep } from "./dockerfile/render.ts";
export { selectEngine, type EngineChoice } from "./engines/select.ts";
export { publishImages, parsePublishReference } from "./engines/docker/publish.ts";
export { catalogPath, findLocalCatalog, loadCatalog } from "./base-image/catalog-source.ts";
export { checkBaseImage, formatSanityReport, runSanityChecks, type SanityCheckResult, type SanityReport } from "./base-image/sanity-checks.ts";
export {
  METADATA_FILE_NAME,
  connectorMetadataSchema,
  inspectConnectorMetadata,
  readConnectorMetadata,
  type ConnectorMetadata,
} from "./connector/metadata.ts";
export { setBaseImageInYaml } from "./connector/metadata-edit.ts";
export { BUILD_CUSTOMIZATION_FILES, loadBuildCustomization } from "./connector/build-customization.ts";
export { CONNECTOR_CODE_DIR, DEPENDENCY_MANIFESTS, prepareConnector, pythonConnectorRecipe, type PreparedConnector } from "./connector/python-build.ts";
export { buildConnectors, parseBuildOutput, verifySpec, type BuildConnectorsOptions, type BuildOutput, type ConnectorBuildResult } from "./connector/build-connectors.ts";
export { publishBaseImage, releaseBaseImage, type ReleaseBump, type ReleaseResult } from "./base-image/release.ts";
export { deriveVersion, nextVersion } from "./base-image/next-version.ts";
export { lockCatalog } from "./base-image/catalog-lock.ts";
export { renderCatalogDocs } from "./base-image/catalog-docs.ts";
export { RegistryClient, RegistryError, MEDIA_TYPES, type FetchedManifest, type IndexEntry, type RegistryClientOptions } from "./registry/registry-client.ts";
export { analyzeRepository, renderAnalysisMarkdown } from "./analyze/index.ts";
export { writeFileAtomic } from "./shared/fs-atomic.ts";
export * from "./compare/index.ts";
export { analyzeImages, renderImageAnalysisMarkdown } from "./analyze/image-analysis.ts";
export { migrateConnector, planDockerfile, renderBuildCustomization, type MigrationPlan } from "./migrate/migrate.ts";
