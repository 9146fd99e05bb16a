// The local fixture catalog of this repository's dev setup (scripts/bootstrap.sh): not part of the
// published package.
import type { CatalogData } from "../src/catalog.ts";
import type { Platform } from "../src/platform.ts";
import { CHANGELOG_1_1_0, POETRY_PINS_1_1_0, pythonConnectorBaseVersion } from "../src/python-connector-base.ts";

/** What the environment setup records about a fixture root image (.local/fixture/root-<arch>.json). */
export interface FixtureRootImage {
  platform: Platform;
  address: string;
  pythonVersion: string;
  pipVersion: string;
  setuptoolsVersion: string;
}

/** The fixture root image declares what an official python:3.11 image does, with its own values. */
export function fixtureRootEnv(root: Pick<FixtureRootImage, "pythonVersion" | "pipVersion" | "setuptoolsVersion">): Record<string, string | null> {
  return {
    LANG: "C.UTF-8",
    GPG_KEY: "A035C8C19219BA821ECEA86B64E628F8D684696D",
    PATH: "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/root",
    PYTHON_VERSION: root.pythonVersion,
    PYTHON_PIP_VERSION: root.pipVersion,
    PYTHON_SETUPTOOLS_VERSION: root.setuptoolsVersion,
  };
}

/**
 * The local fixture catalog: the production recipes and checks of versions 1.0.0 and 1.1.0, on the
 * fixture root image "Python 3.11 on Debian bookworm" built on this machine. Generated, never
 * committed: its root digests depend on the machine and the day.
 */
export function fixtureCatalog(options: { roots: FixtureRootImage[]; repository?: string }): CatalogData {
  const first = options.roots[0];
  if (!first) throw new Error("fixtureCatalog: at least one fixture root image is required");
  const rootImages: Partial<Record<Platform, string>> = {};
  for (const root of options.roots) rootImages[root.platform] = root.address;
  return {
    name: "python-connector-base (local fixture)",
    repository: options.repository ?? "127.0.0.1:5000/airbyte/python-connector-base",
    versions: [
      pythonConnectorBaseVersion({
        version: "1.0.0",
        changelog: "Local fixture of 1.0.0: the production recipe on Python 3.11 on Debian bookworm, built with mmdebstrap.",
        rootImages,
        facts: { pythonVersion: first.pythonVersion, pipVersion: first.pipVersion, env: fixtureRootEnv(first) },
      }),
      pythonConnectorBaseVersion({
        version: "1.1.0",
        changelog: `Local fixture of 1.1.0 (the production recipe on Python ${first.pythonVersion} on Debian bookworm): ${CHANGELOG_1_1_0}`,
        rootImages,
        facts: { pythonVersion: first.pythonVersion, pipVersion: first.pipVersion, env: fixtureRootEnv(first) },
        poetry: POETRY_PINS_1_1_0,
      }),
    ],
  };
}
