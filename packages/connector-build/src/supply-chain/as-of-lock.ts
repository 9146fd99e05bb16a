/**
 * The as-of side of `connector-build lock --as-of`: for one connector and one platform, the pins uv
 * resolves as of the date ({@link resolveAsOf}) turned into the artifacts that platform installs
 * (the best wheel for the target Python's tags among the files uv allowed, an sdist only when no
 * wheel fits), with a reason naming the package, the version and why when none does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { AirbyteCiError } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { redactUrl } from "../connector/pip-index.ts";
import { resolveAsOf, targetTags, UV_VERSION, type AsOf } from "./as-of.ts";
import type { ConnectorLock, LockedArtifact } from "../connector/lock-file.ts";
import { chooseArtifact, pythonEnvironment, type IndexFile, type LockedRequirement } from "./python-index.ts";

/** What an as-of resolution of one connector needs besides the platform. */
export interface AsOfContext {
  readonly uv: string;
  readonly connector: string;
  readonly dir: string;
  readonly input: "requirements.txt" | "setup.py" | "pyproject.toml";
  readonly asOf: AsOf;
  readonly indexUrl: string;
  readonly caBundle?: string;
  readonly allowYanked?: boolean;
  /** Resolve for this Python (X.Y[.Z]) instead of the base image's. */
  readonly pythonVersion?: string;
}

/** One platform resolved as of the date. */
export interface AsOfPlatform {
  readonly pythonVersion: string;
  readonly tags: readonly string[];
  readonly artifacts: LockedArtifact[];
  readonly yanked: string[];
}

function toArtifact(ctx: AsOfContext, platform: string, pythonVersion: string, requirement: LockedRequirement, files: readonly IndexFile[], tags: readonly string[]): LockedArtifact {
  let chosen;
  try {
    chosen = chooseArtifact(requirement, files, tags);
  } catch (error) {
    if (!AirbyteCiError.isInstance(error)) throw error;
    throw new ConnectorBuildError(
      "RESOLUTION_FAILED",
      `connector ${ctx.connector}: cannot lock as of ${ctx.asOf.asOf} for Python ${pythonVersion} on ${platform}:\n  ${requirement.name} ${requirement.version}: no artifact for Python ${pythonVersion} on ${platform} (none of its ${requirement.hashes.length} file(s) uploaded by ${ctx.asOf.excludeNewer} is a wheel for tags ${tags.slice(0, 2).join(", ")}…, and it has no sdist)`,
    );
  }
  return { name: requirement.name, version: requirement.version, kind: chosen.kind, filename: chosen.filename, url: chosen.url, sha256: `sha256:${chosen.sha256}` };
}

/** Resolves a connector's dependencies as of the date for one platform of its base image. */
export async function asOfPlatform(ctx: AsOfContext, engine: Engine, image: BuiltImage, platform: string, filesOf: (name: string) => Promise<IndexFile[]>): Promise<AsOfPlatform> {
  const env = await pythonEnvironment(engine, image, []);
  const pythonVersion = ctx.pythonVersion ?? env.pythonVersion;
  const tags = ctx.pythonVersion !== undefined ? await targetTags(engine, image, ctx.pythonVersion) : env.tags;
  const resolution = await resolveAsOf({ ...ctx, pythonVersion, platform, tags });
  const artifacts: LockedArtifact[] = [];
  for (const requirement of resolution.requirements) artifacts.push(toArtifact(ctx, platform, pythonVersion, requirement, await filesOf(requirement.name), tags));
  return { pythonVersion, tags, artifacts, yanked: resolution.yanked };
}

/** The build backends of the platform's sdists (`[build-system] requires`), resolved as of the same date. */
export async function asOfBuildArtifacts(ctx: AsOfContext, platform: AsOfPlatform & { name: string }, requires: readonly string[], filesOf: (name: string) => Promise<IndexFile[]>): Promise<LockedArtifact[]> {
  if (requires.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), "airbyte-ci-build-requires-"));
  try {
    writeFileSync(join(dir, "requirements.in"), `${[...requires].sort().join("\n")}\n`);
    const resolution = await resolveAsOf({ ...ctx, dir, input: "requirements.in", pythonVersion: platform.pythonVersion, platform: platform.name, tags: platform.tags });
    const out: LockedArtifact[] = [];
    for (const requirement of resolution.requirements) out.push(toArtifact(ctx, platform.name, platform.pythonVersion, requirement, await filesOf(requirement.name), platform.tags));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lock's record of how it was resolved. */
export function resolutionRecord(ctx: AsOfContext, yanked: readonly string[]): NonNullable<ConnectorLock["resolution"]> {
  return {
    asOf: ctx.asOf.asOf,
    excludeNewer: ctx.asOf.excludeNewer,
    source: ctx.asOf.source,
    resolver: `uv ${UV_VERSION}`,
    input: ctx.input,
    indexUrl: redactUrl(ctx.indexUrl),
    yanked: [...new Set(yanked)].sort(),
  };
}
