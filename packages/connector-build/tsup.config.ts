import { defineLibraryConfig } from "../../tooling/tsup.config.base.ts";

export default defineLibraryConfig({ index: "src/index.ts", testing: "src/testing.ts", cli: "src/cli/main.ts" }, { splitting: true });
