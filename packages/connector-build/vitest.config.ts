import { defineTestConfig } from "../../tooling/vitest.config.base.ts";

export default defineTestConfig();
