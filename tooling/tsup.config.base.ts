import { defineConfig, type Options } from "tsup";

/** One build shape for every package: ESM, declarations, sourcemaps, Node 20. */
export function defineLibraryConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ["esm"],
    target: "node20",
    platform: "node",
    // Members tagged @internal serve the package's own modules: they are not in the published types.
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  });
}
