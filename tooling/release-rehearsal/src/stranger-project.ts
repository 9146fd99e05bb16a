/**
 * The files a stranger writes in a fresh npm project: a connector's hooks, a tsconfig to check
 * them, and a broken hook file that must not type-check.
 */

/** Hooks of the stranger's copy of examples/source-hello: both hooks, the recipe and the context. */
export const BUILD_CUSTOMIZATION = `import { defineBuildCustomization, type BuildHook } from "@airbyte-ci/hooks";

// Runs last: marks the image with what the hook was told, so the build can be traced to this file.
const markImage: BuildHook = (recipe, context) =>
  recipe
    .withEnvVariable("STRANGER_HOOK_PLATFORM", context.platform)
    .withLabel("io.example.stranger.base-image", context.baseImageVersion);

export default defineBuildCustomization({
  preConnectorInstall: async (recipe) => recipe.withEnvVariable("STRANGER_PRE_INSTALL", "1"),
  postConnectorInstall: markImage,
});
`;

/** A hook returning something other than a recipe: tsc must refuse it. */
export const BROKEN_BUILD_CUSTOMIZATION = `import { defineBuildCustomization } from "@airbyte-ci/hooks";

export default defineBuildCustomization({
  // Wrong on purpose: a hook returns the recipe it was given, extended, not a number.
  postConnectorInstall: (recipe) => recipe.operations.length,
});
`;

/** What a stranger's tsconfig needs for an ESM-only package: Node's own module resolution. */
const compilerOptions = { module: "nodenext", strict: true, noEmit: true };

export const TSCONFIG = `${JSON.stringify({ compilerOptions, include: ["connectors/**/*.ts"] }, null, 2)}\n`;
export const TSCONFIG_BROKEN = `${JSON.stringify({ compilerOptions, include: ["broken/**/*.ts"] }, null, 2)}\n`;
/** The READMEs' examples, with Node's types as the connector-build README asks. */
export const TSCONFIG_README = `${JSON.stringify({ compilerOptions: { ...compilerOptions, types: ["node"] }, include: ["readme-examples/**/*.mts"] }, null, 2)}\n`;

/** The first TypeScript example of a README (a module, so .mts), or undefined. */
export function readmeExample(readme: string): string | undefined {
  return /^```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1];
}

/** 1-based line of the broken hook in {@link BROKEN_BUILD_CUSTOMIZATION}. */
export const BROKEN_HOOK_LINE = BROKEN_BUILD_CUSTOMIZATION.split("\n").findIndex((line) => line.includes("postConnectorInstall:")) + 1;
