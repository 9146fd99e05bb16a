// Writes version 1.0.0 (the seed's proposal) into catalog/production.json. Run once; the
// catalog is committed data and catalog.test.ts keeps it equal to what this script produces.
import { writeFileSync } from "node:fs";
import { productionSeedVersion } from "./production-seed.ts";

const catalog = {
  $schema: "./schema.json",
  name: "python-connector-base",
  repository: "docker.io/airbyte/python-connector-base",
  versions: [productionSeedVersion()],
};
writeFileSync(new URL("../catalog/production.json", import.meta.url), `${JSON.stringify(catalog, null, 2)}\n`);
