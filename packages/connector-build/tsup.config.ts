import { defineLibraryConfig } from "../../tooling/tsup.config.base.ts";

export default defineLibraryConfig({ index: "src/index.ts", cli: "src/cli/main.ts" });
