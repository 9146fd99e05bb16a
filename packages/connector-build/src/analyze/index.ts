export {
  DEFAULT_ANALYSIS_LANGUAGES,
  DEFAULT_ANALYSIS_SUPPORT_LEVELS,
  analyzeRepository,
  type AnalysisProblem,
  type AnalyzeOptions,
  type DockerfileAnalysisReport,
  type DockerfileVariant,
  type UnreadableDockerfile,
  type VariantExample,
} from "./analyze.ts";
export { renderAnalysisMarkdown } from "./markdown.ts";
export {
  AIRBYTE_CONNECTORS_DIR,
  findConnectors,
  type ConnectorDiscovery,
  type DiscoveredConnector,
  type DiscoveryProblem,
} from "../connector/discover.ts";
export {
  InvalidUtf8Error,
  PYTHON_WHITESPACE,
  decodePythonText,
  dockerfileVariantId,
  normalizeDockerfile,
  pythonSplitlines,
  pythonStrip,
} from "./dockerfile-variant.ts";
export { dockerfileBaseImages, parseFromInstructions, type FromInstruction } from "../dockerfile/from.ts";
