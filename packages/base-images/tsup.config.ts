import { defineLibraryConfig } from "../../tooling/tsup.config.base.ts";

export default defineLibraryConfig({ index: "src/index.ts" });
