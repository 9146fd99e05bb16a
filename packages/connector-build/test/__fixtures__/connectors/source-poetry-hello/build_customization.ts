import { defineBuildCustomization } from "@airbyte-ci/hooks";

export default defineBuildCustomization({
  preConnectorInstall: (recipe) =>
    // The locked dependency is a local wheel (a path dependency): it must be in place before the
    // dependency install layer. Poetry itself comes with the base image (1.1.0+).
    recipe.withDirectory("/airbyte/integration_code/vendor", "vendor"),
});
