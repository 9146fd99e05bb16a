export { AirbyteCiError, BaseImagesError, type BaseImagesErrorCode } from "./errors.ts";
export {
  SUPPORTED_PLATFORMS,
  isPlatform,
  parsePlatform,
  parsePlatformList,
  platformArchitecture,
  platformSchema,
  type Platform,
} from "./platform.ts";
export {
  DOCKER_HUB,
  IMAGE_REFERENCE_PATTERN,
  REPOSITORY_PATH_PATTERN,
  REPOSITORY_PATTERN,
  TAG_PATTERN,
  assertDigest,
  formatImageAddress,
  isDigest,
  parseImageAddress,
  parseRootImage,
  sameImage,
  splitImageReference,
  type ImageAddress,
  type RootImage,
} from "./image-address.ts";
export {
  ImageRecipe,
  describe,
  recipeOperationSchema,
  recipeSchema,
  type RecipeOperation,
  type RecipeOperationName,
} from "./recipe.ts";
export {
  commandExpectationSchema,
  describeExpectation,
  evaluateSanityCheck,
  sanityCheckArgv,
  sanityCheckSchema,
  type ObservedResult,
  type SanityCheck,
} from "./sanity-check.ts";
export {
  BaseImageCatalog,
  BaseImageVersion,
  baseImageVersionSchema,
  catalogJsonSchema,
  catalogSchema,
  formatZodIssues,
  loadProductionCatalog,
  parseCatalog,
  productionCatalogPath,
  validateCatalog,
  type BaseImageVersionData,
  type CatalogData,
  type CatalogValidation,
} from "./catalog.ts";
export {
  CHANGELOG_1_1_0,
  CHANGELOG_2_0_0,
  POETRY_HOME,
  POETRY_PINS_1_1_0,
  POETRY_VENV,
  PYTHON_CONNECTOR_BASE_TITLE,
  pythonConnectorBaseChecks,
  pythonConnectorBaseRecipe,
  pythonConnectorBaseVersion,
  type PoetryPins,
  type PythonRootFacts,
} from "./python-connector-base.ts";
export { AIRBYTE_RUNTIME_USER, isRootUser, recipeRuntimeUser, runtimeUserChecks, withRuntimeUser, type RuntimeUser } from "./runtime-user.ts";
