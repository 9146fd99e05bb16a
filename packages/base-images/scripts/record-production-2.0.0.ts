// Records version 2.0.0 (non-root runtime user) in catalog/production.json, unpublished, as
// record-production-1.1.0.ts did for 1.1.0. catalog.test.ts keeps the entry equal to the code.
import { readFileSync, writeFileSync } from "node:fs";
import { parseCatalog } from "../src/catalog.ts";
import { productionVersion200 } from "./production-seed.ts";

const url = new URL("../catalog/production.json", import.meta.url);
const data = JSON.parse(readFileSync(url, "utf8"));
const next = parseCatalog(data, "catalog/production.json").withVersion(productionVersion200(), { replace: true });
writeFileSync(url, `${JSON.stringify({ $schema: data.$schema, ...next.toJSON() }, null, 2)}\n`);
