// Records version 1.1.0 (Poetry added) in catalog/production.json, unpublished: Docker Hub is out of
// reach from here, so its `published` digest is written by whoever publishes it
// (`connector-build base publish 1.1.0`). catalog.test.ts keeps the entry equal to this.
import { readFileSync, writeFileSync } from "node:fs";
import { parseCatalog } from "../src/catalog.ts";
import { productionVersion110 } from "./production-seed.ts";

const url = new URL("../catalog/production.json", import.meta.url);
const data = JSON.parse(readFileSync(url, "utf8"));
const next = parseCatalog(data, "catalog/production.json").withVersion(productionVersion110(), { replace: true });
writeFileSync(url, `${JSON.stringify({ $schema: data.$schema, ...next.toJSON() }, null, 2)}\n`);
