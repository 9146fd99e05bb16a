/**
 * Offline builds (`build --offline --wheelhouse <dir>`): the connector is built from its
 * `connector-build.lock` alone, with no network in any build container, every Python artifact
 * hash-checked.
 *
 * How the wheelhouse reaches the install step without landing in the image: per platform, a seed
 * build (from the locked base manifest, no network) copies the platform's artifacts and a
 * hash-pinned requirements.txt into an engine cache volume named by their content hash; the
 * connector's recipe then mounts that cache volume in place of the pip cache and installs with
 * `pip install --no-index --find-links <cache> --no-deps --require-hashes`. Cache volumes are never
 * part of an image, and pip refuses any file whose sha256 is not the locked one, so a stale or
 * tampered cache cannot change what is installed.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe, type Platform, type RecipeOperation } from "@airbyte-ci/base-images";
import type { PreparedConnector } from "../connector/python-build.ts";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { LOCK_FILE_NAME, lockMismatches, readLock, type ConnectorLock } from "./lock-file.ts";

/** Where the wheelhouse cache volume is mounted during the install. */
export const WHEELHOUSE_MOUNT = "/tmp/airbyte-ci-wheelhouse";
const PIP_CACHE = "/root/.cache/pip";
const PIP = ["python", "-m", "pip", "install", "--disable-pip-version-check", "--no-index", "--find-links", WHEELHOUSE_MOUNT, "--no-build-isolation"];

/** An offline build of one connector, ready to run per platform. */
export interface OfflinePlan {
  readonly lock: ConnectorLock;
  /** Loads the platform's artifacts into the engine's wheelhouse cache volume (no network). */
  seed(engine: Engine, platform: Platform, onProgress?: (line: string) => void): Promise<void>;
  /** The common build's recipe with its dependency install replaced by the offline one. */
  recipe(platform: Platform, common: ImageRecipe): ImageRecipe;
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
    recipe(platform, common) {
      const seed = seeds.get(platform) as { cache: string; requirements: boolean; buildRequirements: boolean };
      const ops = common.operations;
      // The connector's install is the last pip-cache block (a replayed base recipe has one of its own before it).
      let start = -1;
      ops.forEach((op, i) => {
        if (op.op === "withMountedCache" && op.path === PIP_CACHE) start = i;
      });
      const end = ops.findIndex((op, i) => i > start && op.op === "withoutMount" && op.path === PIP_CACHE);
      if (start < 0 || end < 0) {
        throw new ConnectorBuildError("BUILD_FAILED", `connector ${metadata.technicalName}: offline build: the common build's recipe has no dependency install step (a ${PIP_CACHE} cache mount) to replace`);
      }
      const install: RecipeOperation[] = [{ op: "withMountedCache", path: WHEELHOUSE_MOUNT, cache: seed.cache, sharing: "locked" }];
      // Build backends of sdists go into the cache volume, on PYTHONPATH for the install only: never in the image.
      const buildDeps = `${WHEELHOUSE_MOUNT}/build-deps`;
      const pip = seed.buildRequirements ? ["env", `PYTHONPATH=${buildDeps}`, ...PIP] : PIP;
      if (seed.buildRequirements) {
        install.push({ op: "withExec", args: [...PIP, "--no-deps", "--require-hashes", "--target", buildDeps, "-r", `${WHEELHOUSE_MOUNT}/build-requirements.txt`] });
      }
      if (seed.requirements) install.push({ op: "withExec", args: [...pip, "--no-deps", "--require-hashes", "-r", `${WHEELHOUSE_MOUNT}/requirements.txt`] });
      if (existsSync(join(metadata.dir, "setup.py"))) install.push({ op: "withExec", args: [...pip, "."] });
      install.push({ op: "withoutMount", path: WHEELHOUSE_MOUNT });
      // A Poetry project's root package is not installed offline (poetry is not in every base, and it
      // would resolve against an index): the connector runs from its code directory.
      const rest = ops.slice(end + 1).filter((op) => !(op.op === "withExec" && op.args[0] === "poetry" && op.args.includes("--only-root")));
      return ImageRecipe.fromOperations([...ops.slice(0, start), ...install, ...rest], `${metadata.technicalName} offline recipe`);
    },
    cleanup() {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
