import { defineConfig } from "vitest/config";

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
    },
  });
}
