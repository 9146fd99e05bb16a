import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

/** The local fixture catalog scripts/bootstrap.sh writes: what `--catalog local` names in this repository. */
const LOCAL_CATALOG = resolve(import.meta.dirname, "../.local/fixture/catalog.json");

/** Tests run on source: the custom condition resolves workspace packages to their src/index.ts. */
export function defineTestConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ["@airbyte-ci/source"] },
    ssr: { resolve: { conditions: ["@airbyte-ci/source"] } },
    test: {
      include: overrides.include ?? ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: overrides.testTimeout ?? 30_000,
      reporters: ["default"],
      env: { CONNECTOR_BUILD_LOCAL_CATALOG: process.env.CONNECTOR_BUILD_LOCAL_CATALOG ?? LOCAL_CATALOG },
    },
  });
}
