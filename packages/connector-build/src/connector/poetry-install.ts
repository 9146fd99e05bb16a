import type { ImageRecipe } from "@airbyte-ci/base-images";

/** Where the locked requirements are written for the one RUN that installs them (never in a layer). */
const LOCKED_REQUIREMENTS = "/tmp/poetry-locked-requirements.txt";

/**
 * Installs the dependencies poetry.lock pins for the main group, in one layer: `poetry export`
 * writes them (versions, markers, file hashes) as a requirements file, and pip installs exactly those
 * (`--no-deps`: the lock already holds the whole closure; hashes checked). pip rather than
 * `poetry install` because pip honours the build's package index settings (PIP_INDEX_URL…), which
 * Poetry cannot take for PyPI without editing pyproject.toml. A poetry.lock out of date with
 * pyproject.toml fails here, as `poetry install` would. Needs a base image with Poetry (1.1.0+).
 */
export function withPoetryDependencies(recipe: ImageRecipe): ImageRecipe {
  return recipe.withExec([
    "sh",
    "-c",
    [
      "set -e",
      'command -v poetry >/dev/null || { echo "poetry.lock needs a base image with Poetry (python-connector-base 1.1.0 or later): connector-build bump-base" >&2; exit 127; }',
      `poetry export --only main --format requirements.txt --output ${LOCKED_REQUIREMENTS}`,
      `python -m pip install --disable-pip-version-check --no-deps -r ${LOCKED_REQUIREMENTS}`,
      `rm -f ${LOCKED_REQUIREMENTS}`,
    ].join("; "),
  ]);
}

/** True when pyproject.toml declares a Poetry project without a package (`package-mode = false`). */
export function isPoetryNonPackageMode(pyproject: string): boolean {
  return /^\s*package-mode\s*=\s*false\s*(#.*)?$/m.test(pyproject);
}

/**
 * Installs the connector's own package once, as its pyproject.toml declares it, after its code is
 * in place: `poetry install --only-root` (editable, pointing at the code directory: one copy of the
 * code, its entry points and metadata installed). Nothing is fetched. Skipped for a project in
 * non-package mode, which has no package to install.
 */
export function withPoetryRootPackage(recipe: ImageRecipe, pyproject: string): ImageRecipe {
  if (isPoetryNonPackageMode(pyproject)) return recipe;
  return recipe.withExec(["poetry", "install", "--only-root", "--no-interaction"]);
}
