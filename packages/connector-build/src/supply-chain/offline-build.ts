/**
 * Offline builds (`build --offline --wheelhouse <dir>`): the connector is built from its
 * `connector-build.lock` alone, with no network in any build container, every Python artifact
 * hash-checked.
 *
 * How the wheelhouse reaches the install step without landing in the image: per platform, a seed
 * build (from the locked base manifest, no network) copies the platform's artifacts and a
 * hash-pinned requirements.txt into an engine cache volume named by their content hash; the
 * connector's recipe takes that volume as its install strategy (connector/dependency-install.ts) and
 * installs with `pip install --no-index --find-links <cache> --no-deps --require-hashes`. Cache volumes are never
 * part of an image, and pip refuses any file whose sha256 is not the locked one, so a stale or
 * tampered cache cannot change what is installed.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe, type Platform } from "@airbyte-ci/base-images";
import type { InstallStrategy } from "../connector/dependency-install.ts";
import type { PreparedConnector } from "../connector/python-build.ts";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { LOCK_FILE_NAME, lockMismatches, readLock, type ConnectorLock } from "../connector/lock-file.ts";

/** Where the wheelhouse cache volume is mounted during the install. */
export const WHEELHOUSE_MOUNT = "/tmp/airbyte-ci-wheelhouse";

/** An offline build of one connector, ready to run per platform. */
export interface OfflinePlan {
  readonly lock: ConnectorLock;
  /** Loads the platform's artifacts into the engine's wheelhouse cache volume (no network). */
  seed(engine: Engine, platform: Platform, onProgress?: (line: string) => void): Promise<void>;
  /** The install strategy the common build's recipe takes for this platform (the seeded wheelhouse volume). */
  strategy(platform: Platform): InstallStrategy;
  /** Removes temporary files. */
  cleanup(): void;
}

function sha256File(path: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

/**
 * Checks the lock against the connector and the wheelhouse (INVALID_CONNECTOR, exit 2, before any
 * build: a lock that does not match the connector's files, a platform not locked, an artifact
 * missing from the wheelhouse or with another hash) and prepares the per-platform seed folders.
 */
export function prepareOffline(connector: PreparedConnector, platforms: readonly Platform[], wheelhouse: string): OfflinePlan {
  const { metadata } = connector;
  const lock = readLock(metadata.dir);
  const mismatches = lockMismatches(metadata.dir, lock, metadata.baseImage, platforms);
  if (mismatches.length > 0) {
    throw new ConnectorBuildError(
      "INVALID_CONNECTOR",
      `connector ${metadata.technicalName}: ${LOCK_FILE_NAME} does not match the connector: ${mismatches.join("; ")}: expected the files it was made from; run connector-build lock ${metadata.dir} --wheelhouse ${wheelhouse}`,
    );
  }
  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-offline-"));
  const seeds = new Map<Platform, { dir: string; cache: string; requirements: boolean; buildRequirements: boolean }>();
  try {
    for (const platform of platforms) {
      const locked = lock.platforms[platform] as ConnectorLock["platforms"][string];
      const dir = join(work, platform.replace("/", "-"));
      mkdirSync(dir);
      const lines: string[] = [];
      const buildLines: string[] = [];
      for (const artifact of [...locked.artifacts, ...locked.buildArtifacts]) {
        const source = join(wheelhouse, artifact.filename);
        if (!existsSync(source)) {
          throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName} (${platform}): ${artifact.filename} is not in the wheelhouse ${wheelhouse}: run connector-build lock ${metadata.dir} --wheelhouse ${wheelhouse}`);
        }
        const actual = sha256File(source);
        if (actual !== artifact.sha256) {
          throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName} (${platform}): ${source} hashes to ${actual}: expected ${artifact.sha256}, the locked hash`);
        }
        copyFileSync(source, join(dir, artifact.filename));
        (locked.buildArtifacts.includes(artifact) ? buildLines : lines).push(`${artifact.name}==${artifact.version} --hash=${artifact.sha256}`);
      }
      const requirements = `${lines.join("\n")}\n`;
      const buildRequirements = `${buildLines.join("\n")}\n`;
      writeFileSync(join(dir, "requirements.txt"), requirements);
      writeFileSync(join(dir, "build-requirements.txt"), buildRequirements);
      const cache = `airbyte-ci-wheelhouse-${createHash("sha256").update(requirements).update(buildRequirements).digest("hex").slice(0, 32)}`;
      seeds.set(platform, { dir, cache, requirements: lines.length > 0, buildRequirements: buildLines.length > 0 });
    }
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  const baseName = lock.baseImage.split("@")[0] as string;
  return {
    lock,
    async seed(engine, platform, onProgress) {
      const seed = seeds.get(platform) as { dir: string; cache: string };
      const recipe = ImageRecipe.empty()
        .from(`${baseName}@${lock.platforms[platform]?.baseManifest}`)
        .withDirectory("/tmp/airbyte-ci-wheelhouse-source", ".")
        // A fresh value makes the copy run every time: the cache volume may have been pruned since.
        .withEnvVariable("AIRBYTE_CI_WHEELHOUSE_SEED", randomBytes(8).toString("hex"))
        .withMountedCache(WHEELHOUSE_MOUNT, seed.cache, { sharing: "locked" })
        .withExec(["sh", "-c", `rm -rf ${WHEELHOUSE_MOUNT}/* && cp -a /tmp/airbyte-ci-wheelhouse-source/. ${WHEELHOUSE_MOUNT}/`])
        .withoutMount(WHEELHOUSE_MOUNT);
      await engine.build({ recipe, platform, contextDir: seed.dir, network: "none", ...(onProgress ? { onProgress } : {}) });
    },
    strategy(platform) {
      const seed = seeds.get(platform) as { cache: string; requirements: boolean; buildRequirements: boolean };
      return { kind: "wheelhouse", cache: seed.cache, mount: WHEELHOUSE_MOUNT, requirements: seed.requirements, buildRequirements: seed.buildRequirements };
    },
    cleanup() {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
