import { isRootUser, recipeRuntimeUser, type BaseImageVersion, type ImageRecipe } from "@airbyte-ci/base-images";

/**
 * Who a connector image built on a base runs as, when that is not root: the base recipe's last
 * `withUser` and HOME (base 2.0.0: `airbyte`, /home/airbyte). Undefined for a root base (1.x).
 */
export function baseRuntimeUser(base: BaseImageVersion): { user: string; home: string | undefined } | undefined {
  const found = recipeRuntimeUser(base.recipe);
  return isRootUser(found.user) ? undefined : found;
}

/**
 * The common build installs as root: on a non-root base, the recipe switches to root (and root's
 * HOME, so pip and Poetry caches stay under /root) right after FROM. A root base is left as it is.
 */
export function installAsRoot(recipe: ImageRecipe, base: BaseImageVersion): ImageRecipe {
  return baseRuntimeUser(base) ? recipe.withUser("root").withEnvVariable("HOME", "/root") : recipe;
}

/**
 * Ends the recipe as the base's user after the postConnectorInstall hook. Rules:
 * - root base (1.x): nothing to do;
 * - the hook set no user: whatever the connector's files lack for the user to read is made readable
 *   (only files without the read bit are touched, so usually the step changes nothing), then
 *   `withUser(<base user>)` and the base's HOME: hooks may run steps as root and the image still ends non-root;
 * - the hook set a user explicitly (`withUser`): its choice stands, it is the hook's to make the code
 *   readable by it; HOME is put back to the base's only when that user is the base's.
 * `installed` is the recipe the hook was given, `finished` what it returned.
 */
export function endAsRuntimeUser(options: { installed: ImageRecipe; finished: ImageRecipe; base: BaseImageVersion; codeDir: string }): ImageRecipe {
  const { installed, finished, base, codeDir } = options;
  const runtime = baseRuntimeUser(base);
  if (!runtime) return finished;
  const added = finished.operations.slice(sharedPrefix(installed, finished));
  const hookUser = added.filter((op) => op.op === "withUser").at(-1);
  const hookSetHome = added.some((op) => op.op === "withEnvVariable" && op.name === "HOME");
  const withHome = (r: ImageRecipe) => (runtime.home === undefined || hookSetHome ? r : r.withEnvVariable("HOME", runtime.home));
  if (hookUser?.op === "withUser") return hookUser.name === runtime.user ? withHome(finished) : finished;
  return withHome(
    finished
      .withExec(["find", codeDir, "(", "(", "-type", "d", "!", "-perm", "-005", ")", "-o", "(", "-type", "f", "!", "-perm", "-004", ")", ")", "-exec", "chmod", "a+rX", "{}", "+"])
      .withUser(runtime.user),
  );
}

/**
 * How many leading operations two recipes share (a hook appends to the recipe it was given; it runs
 * in a worker, so its operations are copies, compared by value).
 */
function sharedPrefix(a: ImageRecipe, b: ImageRecipe): number {
  let i = 0;
  while (i < a.operations.length && i < b.operations.length && JSON.stringify(a.operations[i]) === JSON.stringify(b.operations[i])) i++;
  return i;
}

/**
 * What moving a connector from base `from` to base `to` changes about who it runs as, for
 * `bump-base`: undefined when nothing does (same user). `from` is undefined when the connector's
 * current base is not in the catalog (then only a non-root target is worth saying).
 */
export function describeRuntimeUserChange(from: BaseImageVersion | undefined, to: BaseImageVersion): string | undefined {
  const before = from ? recipeRuntimeUser(from.recipe).user : undefined;
  const after = recipeRuntimeUser(to.recipe).user;
  if (before === after || (before === undefined && isRootUser(after))) return undefined;
  const was = from ? `base ${from.version} ran it as ${before}` : "its current base is not in this catalog";
  const consequence = isRootUser(after)
    ? "it runs as root again"
    : `the common build still installs as root, but at run time a connector that writes outside /tmp and ${recipeRuntimeUser(to.recipe).home ?? "its home"}, or needs root, must change`;
  return `base ${to.version} runs the connector as ${after} (${was}): ${consequence}`;
}
