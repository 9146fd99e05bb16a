// Writes the local fixture catalog (.local/fixture/catalog.json) from the fixture root images the
// environment setup recorded. Kept as is when its root images are unchanged, so what was published
// into it survives a rerun; written atomically otherwise.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCatalog } from "@airbyte-ci/base-images";
import { fixtureCatalog, type FixtureRootImage } from "../../base-images/scripts/fixture-catalog.ts";
import { writeFileAtomic } from "../src/shared/fs-atomic.ts";

const fixtureDir = resolve(import.meta.dirname, "../../../.local/fixture");
const roots = readdirSync(fixtureDir)
  .filter((f) => /^root-[a-z0-9]+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), "utf8")) as FixtureRootImage)
  .sort((a, b) => a.platform.localeCompare(b.platform));
if (roots.length === 0) {
  console.error(`no fixture root image recorded in ${fixtureDir}: run scripts/env/setup.sh first`);
  process.exit(1);
}
const target = join(fixtureDir, "catalog.json");
const fresh = fixtureCatalog({ roots });
if (existsSync(target)) {
  try {
    const current = parseCatalog(JSON.parse(readFileSync(target, "utf8")), target);
    const same = JSON.stringify(current.get("1.0.0").data.rootImages) === JSON.stringify(fresh.versions[0]?.rootImages);
    if (same) process.exit(0);
  } catch {
    // unreadable or stale: rewrite below
  }
}
writeFileAtomic(target, `${JSON.stringify(fresh, null, 2)}\n`);
console.error(`wrote ${target}`);
