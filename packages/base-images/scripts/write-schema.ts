// Regenerates catalog/schema.json from the zod schema; catalog.test.ts fails when it is stale.
import { writeFileSync } from "node:fs";
import { catalogJsonSchema } from "../src/catalog.ts";

writeFileSync(new URL("../catalog/schema.json", import.meta.url), `${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
