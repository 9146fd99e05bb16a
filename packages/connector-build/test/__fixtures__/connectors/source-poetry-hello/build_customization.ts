import { defineBuildCustomization } from "@airbyte-ci/hooks";

export default defineBuildCustomization({
  preConnectorInstall: (recipe) =>
    recipe
      // The fixture base image has no poetry: Debian's python3-poetry stands in for it.
      .withExec(["sh", "-c", "apt-get update && apt-get install -y --no-install-recommends python3-poetry && rm -rf /var/lib/apt/lists/*"])
      // The locked dependency is a local wheel (no package index here): it must be in place before
      // the dependency install layer.
      .withDirectory("/airbyte/integration_code/vendor", "vendor"),
});
