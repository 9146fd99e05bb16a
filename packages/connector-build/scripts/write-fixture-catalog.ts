// Writes the local fixture catalog (.local/fixture/catalog.json) from the fixture root images the
// environment setup recorded. Kept when its root images are unchanged, so what was published into it
// survives a rerun: versions the code defines but the file lacks (1.1.0 on a machine set up before
// it existed) are added, unpublished ones whose definition changed are replaced, published ones are
// never touched. Rewritten from scratch when the root images changed. Written atomically.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCatalog, type BaseImageCatalog } from "@airbyte-ci/base-images";
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
let merged: BaseImageCatalog | undefined;
let changed: string[] = [];
if (existsSync(target)) {
  try {
    let current = parseCatalog(JSON.parse(readFileSync(target, "utf8")), target);
    const same = JSON.stringify(current.get("1.0.0").data.rootImages) === JSON.stringify(fresh.versions[0]?.rootImages);
    if (same) {
      for (const version of fresh.versions) {
        const existing = current.find(version.version);
        if (existing?.published) continue;
        const { published: _p, dockerfiles: _d, ...definition } = existing?.data ?? {};
        if (existing && JSON.stringify(definition) === JSON.stringify(version)) continue;
        current = current.withVersion(version, { replace: true });
        changed.push(version.version);
      }
      merged = current;
    }
  } catch {
    // unreadable or stale: rewrite below
  }
}
if (merged && changed.length === 0) process.exit(0);
if (!merged) changed = fresh.versions.map((v) => v.version);
writeFileAtomic(target, `${JSON.stringify(merged ? merged.toJSON() : fresh, null, 2)}\n`);
console.error(`wrote ${target} (${changed.join(", ")})`);
