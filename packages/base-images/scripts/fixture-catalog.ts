// The local fixture catalogs of this repository's dev setup (scripts/bootstrap.sh): not part of the
// published package.
import type { CatalogData } from "../src/catalog.ts";
import type { Platform } from "../src/platform.ts";
import { CHANGELOG_1_1_0, CHANGELOG_2_0_0, POETRY_PINS_1_1_0, pythonConnectorBaseVersion } from "../src/python-connector-base.ts";
import { AIRBYTE_RUNTIME_USER } from "../src/runtime-user.ts";

/** What the environment setup records about a fixture root image (.local/fixture/root-<arch>.json, root-py3.9-<arch>.json). */
export interface FixtureRootImage {
  platform: Platform;
  address: string;
  pythonVersion: string;
  pipVersion: string;
  setuptoolsVersion: string;
}

/**
 * The Python lines the fixture has, each a Debian release whose own python3 is the line's Python,
 * built with mmdebstrap by scripts/env/fixture-root-image.sh: 3.11 (bookworm, 3.11.2; the default
 * fixture, `--catalog local`) and 3.9 (bullseye, 3.9.2; the production bases' Python line).
 */
export const FIXTURE_PYTHON_LINES = {
  "3.11": {
    suite: "bookworm",
    /** The key that signs CPython 3.11 releases, as python:3.11 images declare it. */
    gpgKey: "A035C8C19219BA821ECEA86B64E628F8D684696D",
    repository: "127.0.0.1:5000/airbyte/python-connector-base",
    catalogFile: "catalog.json",
  },
  "3.9": {
    suite: "bullseye",
    /** The key that signs CPython 3.9 releases, as python:3.9 images (and the production facts) declare it. */
    gpgKey: "E3FF2839C048B25C084DEBE9B26995E310250568",
    repository: "127.0.0.1:5000/airbyte/python-connector-base-py39",
    catalogFile: "catalog-py3.9.json",
  },
} as const;

/** A Python line of the fixture: `3.11` or `3.9`. */
export type FixturePythonLine = keyof typeof FIXTURE_PYTHON_LINES;

/** The line a fixture root image belongs to, from its Python version (3.11.2 → 3.11). */
export function fixturePythonLine(pythonVersion: string): FixturePythonLine {
  const line = pythonVersion.split(".").slice(0, 2).join(".");
  if (line === "3.11" || line === "3.9") return line;
  throw new Error(`fixture root image with Python ${pythonVersion}: expected a Python line the fixture has (${Object.keys(FIXTURE_PYTHON_LINES).join(", ")})`);
}

/** The fixture root image declares what an official python:3.x image does, with its own values. */
export function fixtureRootEnv(root: Pick<FixtureRootImage, "pythonVersion" | "pipVersion" | "setuptoolsVersion">): Record<string, string | null> {
  return {
    LANG: "C.UTF-8",
    GPG_KEY: FIXTURE_PYTHON_LINES[fixturePythonLine(root.pythonVersion)].gpgKey,
    PATH: "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/root",
    PYTHON_VERSION: root.pythonVersion,
    PYTHON_PIP_VERSION: root.pipVersion,
    PYTHON_SETUPTOOLS_VERSION: root.setuptoolsVersion,
  };
}

/**
 * A local fixture catalog: the production recipes and checks of versions 1.0.0, 1.1.0 and 2.0.0
 * (same version numbers as production) on the fixture root images of one Python line built on this
 * machine. One catalog, and one repository, per Python line: the 3.11 line is `--catalog local`
 * (.local/fixture/catalog.json), the 3.9 line .local/fixture/catalog-py3.9.json. Generated, never
 * committed: its root digests depend on the machine and the day.
 */
export function fixtureCatalog(options: { roots: FixtureRootImage[]; repository?: string }): CatalogData {
  const first = options.roots[0];
  if (!first) throw new Error("fixtureCatalog: at least one fixture root image is required");
  const lineName = fixturePythonLine(first.pythonVersion);
  const line = FIXTURE_PYTHON_LINES[lineName];
  const rootImages: Partial<Record<Platform, string>> = {};
  for (const root of options.roots) rootImages[root.platform] = root.address;
  const facts = { pythonVersion: first.pythonVersion, pipVersion: first.pipVersion, env: fixtureRootEnv(first) };
  const on = `the production recipe on Python ${first.pythonVersion} on Debian ${line.suite}`;
  return {
    name: lineName === "3.11" ? "python-connector-base (local fixture)" : `python-connector-base (local fixture, Python ${lineName})`,
    repository: options.repository ?? line.repository,
    versions: [
      pythonConnectorBaseVersion({
        version: "1.0.0",
        changelog: `Local fixture of 1.0.0: the production recipe on Python ${lineName} on Debian ${line.suite}, built with mmdebstrap.`,
        rootImages,
        facts,
      }),
      pythonConnectorBaseVersion({
        version: "1.1.0",
        changelog: `Local fixture of 1.1.0 (${on}): ${CHANGELOG_1_1_0}`,
        rootImages,
        facts,
        poetry: POETRY_PINS_1_1_0,
      }),
      pythonConnectorBaseVersion({
        version: "2.0.0",
        changelog: `Local fixture of 2.0.0 (${on}): ${CHANGELOG_2_0_0}`,
        rootImages,
        facts,
        poetry: POETRY_PINS_1_1_0,
        runtimeUser: AIRBYTE_RUNTIME_USER,
      }),
    ],
  };
}
