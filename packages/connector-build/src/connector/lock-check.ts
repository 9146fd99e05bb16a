/**
 * A connector's `connector-build.lock` against what it was made from, before any build: its input
 * files, its base image (index and per-platform manifests as the registry has them now), its
 * platforms, and, for a Poetry project, the artifact set poetry.lock's main group pins (an artifact
 * removed from or added to the lock by hand is refused, not installed or silently dropped).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import type { DependencyInputs } from "./dependency-inputs.ts";
import { LOCK_FILE_NAME, lockMismatches, type ConnectorLock } from "./lock-file.ts";
import type { ConnectorMetadata } from "./metadata.ts";
import { canonicalName, lockedRequirements } from "./poetry-lock.ts";
import type { PublishedBaseImage } from "./published-base.ts";

/** Differences between the lock's artifacts for one platform and poetry.lock's main group. */
function poetryDifferences(dir: string, lock: ConnectorLock, platform: Platform): string[] {
  const pyproject = join(dir, "pyproject.toml");
  const poetryLock = join(dir, "poetry.lock");
  const locked = lockedRequirements(readFileSync(pyproject, "utf8"), readFileSync(poetryLock, "utf8"), { pyproject, lock: poetryLock });
  const unconditional = new Set(locked.lines.filter((l) => !l.includes(" ; ")).map((l) => canonicalName(l.split("==")[0] as string)));
  const artifacts = lock.platforms[platform]?.artifacts ?? [];
  const inLock = new Map(artifacts.map((a) => [canonicalName(a.name), a.version]));
  const problems: string[] = [];
  for (const [name, version] of inLock) {
    const want = locked.packages.get(name);
    if (want === undefined) problems.push(`${platform}: ${name} ${version} is in the lock but not in poetry.lock's main group`);
    else if (want !== version) problems.push(`${platform}: ${name} is ${version} in the lock but ${want} in poetry.lock`);
  }
  for (const name of unconditional) if (!inLock.has(name)) problems.push(`${platform}: ${name} ${locked.packages.get(name)} (poetry.lock's main group) is missing from the lock`);
  return problems;
}

/**
 * Throws INVALID_CONNECTOR (exit 2) naming the lock and the command that refreshes it when the
 * lock does not fit the connector as it is now; does nothing without a lock.
 */
export function checkLock(metadata: ConnectorMetadata, dependencies: DependencyInputs, base: PublishedBaseImage, platforms: readonly Platform[]): void {
  const lock = dependencies.lock;
  if (lock === undefined) return;
  const problems = lockMismatches(metadata.dir, lock, metadata.baseImage, platforms);
  for (const platform of platforms) {
    const manifest = lock.platforms[platform]?.baseManifest;
    const now = base.platformDigests[platform];
    if (manifest !== undefined && now !== undefined && manifest !== now) problems.push(`${platform}: the base image's manifest is ${now} in the registry but ${manifest} in the lock`);
    if (lock.platforms[platform] !== undefined && dependencies.selfInstall === "poetry-root") problems.push(...poetryDifferences(metadata.dir, lock, platform));
  }
  if (problems.length > 0) {
    throw new ConnectorBuildError(
      "INVALID_CONNECTOR",
      `connector ${metadata.technicalName}: ${LOCK_FILE_NAME} does not match the connector: ${problems.join("; ")}: expected the files it was made from; run connector-build lock ${metadata.dir} to refresh ${join(metadata.dir, LOCK_FILE_NAME)}`,
    );
  }
}
