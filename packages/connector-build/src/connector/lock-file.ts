/**
 * `connector-build.lock`: one file beside a connector's metadata.yaml that pins everything a build
 * reads from outside the connector: the base image (index and per-platform manifest digests), every
 * Python artifact per platform (URL and sha256), and the hash of each file the install depends on
 * (dependency manifests and hook files). An offline build checks it against the connector's files
 * and builds from it alone.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { BUILD_CUSTOMIZATION_FILES } from "../connector/build-customization.ts";
import { ConnectorBuildError } from "../errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";

/** File name of the lock, beside metadata.yaml. */
export const LOCK_FILE_NAME = "connector-build.lock";

/** Files whose content decides what a build installs (README.md is read by some setup.py but changes no dependency). */
export const LOCKED_INPUTS = ["setup.py", "pyproject.toml", "poetry.lock", "requirements.txt", ...BUILD_CUSTOMIZATION_FILES] as const;

const sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256: followed by 64 lowercase hex digits");

/** One Python artifact a platform installs. */
export const lockedArtifactSchema = z
  .object({
    /** Distribution name as locked. */
    name: z.string().min(1),
    version: z.string().min(1),
    /** `wheel`, or `sdist` when no wheel fits the platform. */
    kind: z.enum(["wheel", "sdist"]),
    filename: z.string().regex(/^[^/\\]+$/, "expected a file name"),
    url: z.string().url(),
    sha256,
  })
  .strict();

/** zod schema of `connector-build.lock`. */
export const connectorLockSchema = z
  .object({
    /** Format version of this file. */
    lockVersion: z.literal(1),
    /** The connector's technical name. */
    connector: z.string().min(1),
    /** metadata.yaml's baseImage when locked (digest-pinned index). */
    baseImage: z.string().min(1),
    /** Per platform: the base image's manifest, the interpreter, the artifacts to install. */
    platforms: z.record(
      z.string(),
      z
        .object({
          baseManifest: sha256,
          pythonVersion: z.string(),
          artifacts: z.array(lockedArtifactSchema),
          /** Build backends the sdists among `artifacts` need (`poetry-core`…), installed outside the image for the build only. */
          buildArtifacts: z.array(lockedArtifactSchema),
        })
        .strict(),
    ),
    /** sha256 of each locked input file present (dependency manifests, hook files), by file name. */
    inputs: z.record(z.string(), sha256),
    /**
     * Present when the Python dependencies were resolved as of a date (`lock --as-of`): the
     * date, the instant the resolver excluded newer uploads from, the resolver, the manifest it
     * resolved, the index (credentials masked) and the yanked pins accepted with --allow-yanked.
     * Optional: locks without it read as before.
     */
    resolution: z
      .object({
        asOf: z.string().min(1),
        excludeNewer: z.string().min(1),
        source: z.enum(["date", "git"]),
        resolver: z.string().min(1),
        input: z.string().min(1),
        indexUrl: z.string().min(1),
        yanked: z.array(z.string()),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A parsed lock. */
export type ConnectorLock = z.infer<typeof connectorLockSchema>;
/** One locked artifact. */
export type LockedArtifact = z.infer<typeof lockedArtifactSchema>;

function fileHash(path: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

/** The hashes of the locked inputs present in a connector folder. */
export function lockInputs(dir: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const name of LOCKED_INPUTS) {
    const path = join(dir, name);
    if (existsSync(path)) inputs[name] = fileHash(path);
  }
  return inputs;
}

/** Writes the lock beside metadata.yaml, atomically, keys in a stable order. */
export function writeLock(dir: string, lock: ConnectorLock): string {
  const path = join(dir, LOCK_FILE_NAME);
  writeFileAtomic(path, `${JSON.stringify(connectorLockSchema.parse(lock), null, 2)}\n`);
  return path;
}

/** The connector's lock when it has one (validated as {@link readLock} does), else undefined. */
export function readLockIfPresent(dir: string): ConnectorLock | undefined {
  return existsSync(join(dir, LOCK_FILE_NAME)) ? readLock(dir) : undefined;
}

/** Reads and validates a connector's lock; a missing or malformed one is INVALID_CONNECTOR (exit 2). */
export function readLock(dir: string): ConnectorLock {
  const path = join(dir, LOCK_FILE_NAME);
  if (!existsSync(path)) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} does not exist: an offline build needs the connector's lock: run connector-build lock ${dir} --wheelhouse <dir>`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} is not JSON: ${(error as Error).message}: expected a lock written by connector-build lock`);
  }
  const parsed = connectorLockSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}: expected a lock written by connector-build lock`);
  }
  return parsed.data;
}

/**
 * Why a lock does not fit the connector as it is now (changed, added or removed inputs, another
 * base image, a platform it was not locked for), or an empty list when it fits.
 */
export function lockMismatches(dir: string, lock: ConnectorLock, baseImage: string | undefined, platforms: readonly string[]): string[] {
  const problems: string[] = [];
  if (baseImage !== lock.baseImage) problems.push(`metadata.yaml's baseImage is ${baseImage ?? "(none)"} but the lock was made for ${lock.baseImage}`);
  const now = lockInputs(dir);
  for (const name of new Set([...Object.keys(now), ...Object.keys(lock.inputs)])) {
    const was = lock.inputs[name];
    const is = now[name];
    if (was === undefined) problems.push(`${name} was added since the lock was made`);
    else if (is === undefined) problems.push(`${name} was removed since the lock was made`);
    else if (was !== is) problems.push(`${name} changed (locked ${was.slice(0, 19)}…, now ${is.slice(0, 19)}…)`);
  }
  for (const platform of platforms) if (lock.platforms[platform] === undefined) problems.push(`it has no ${platform} (locked: ${Object.keys(lock.platforms).join(", ")})`);
  return problems;
}
