import { defineConfig, mergeConfig } from "vitest/config";
import { defineTestConfig } from "../../tooling/vitest.config.base.ts";

export default mergeConfig(defineTestConfig(), defineConfig({ test: { typecheck: { include: ["src/**/*.test-d.ts"] } } }));
