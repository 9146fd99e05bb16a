import { defineBuildCustomization } from "@airbyte-ci/hooks";

export default defineBuildCustomization({
  // The local fixture base image 1.0.0 has no poetry (base 1.1.0 brings it): Debian's stands in.
  preConnectorInstall: (recipe) =>
    recipe.withExec(["sh", "-c", "apt-get update && apt-get install -y --no-install-recommends python3-poetry && rm -rf /var/lib/apt/lists/*"]),
});
