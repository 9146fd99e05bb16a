// Writes the local fixture catalogs from the fixture root images the environment setup recorded, one
// per Python line (base-images/scripts/fixture-catalog.ts): .local/fixture/catalog.json from
// root-<arch>.json (Python 3.11, `--catalog local`), and .local/fixture/catalog-py3.9.json from
// root-py3.9-<arch>.json when the test setup built that root image. Each is kept when its root images
// are unchanged, so what was published into it survives a rerun: versions the code defines but the
// file lacks (2.0.0 on a machine set up before it existed) are added, unpublished ones whose
// definition changed are replaced, published ones are never touched. Rewritten from scratch when the
// root images changed. Written atomically.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCatalog, type BaseImageCatalog } from "@airbyte-ci/base-images";
import { FIXTURE_PYTHON_LINES, fixtureCatalog, type FixtureRootImage } from "../../base-images/scripts/fixture-catalog.ts";
import { writeFileAtomic } from "../src/shared/fs-atomic.ts";

const fixtureDir = resolve(import.meta.dirname, "../../../.local/fixture");

function recordedRoots(pattern: RegExp): FixtureRootImage[] {
  return readdirSync(fixtureDir)
    .filter((f) => pattern.test(f))
    .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), "utf8")) as FixtureRootImage)
    .sort((a, b) => a.platform.localeCompare(b.platform));
}

function writeCatalog(roots: FixtureRootImage[], target: string): void {
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
  if (merged && changed.length === 0) return;
  if (!merged) changed = fresh.versions.map((v) => v.version);
  writeFileAtomic(target, `${JSON.stringify(merged ? merged.toJSON() : fresh, null, 2)}\n`);
  console.error(`wrote ${target} (${changed.join(", ")})`);
}

const roots311 = recordedRoots(/^root-[a-z0-9]+\.json$/);
if (roots311.length === 0) {
  console.error(`no fixture root image recorded in ${fixtureDir}: run scripts/env/setup.sh first`);
  process.exit(1);
}
writeCatalog(roots311, join(fixtureDir, FIXTURE_PYTHON_LINES["3.11"].catalogFile));
const roots39 = recordedRoots(/^root-py3\.9-[a-z0-9]+\.json$/);
if (roots39.length > 0) writeCatalog(roots39, join(fixtureDir, FIXTURE_PYTHON_LINES["3.9"].catalogFile));
