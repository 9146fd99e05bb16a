import { resolve } from "node:path";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import { AirbyteCiError } from "@airbyte-ci/base-images";
import { analyzeRepository } from "../analyze/analyze.ts";
import { findConnectors, toRelative } from "../connector/discover.ts";
import { applyMigration, migrationPatch, planMigration, type MigrationPlan } from "./migrate.ts";
import { lockMigration, pinsOf, type MigrationLock, type MigrationLockOptions } from "./pinned.ts";
import { verifyMigration, type MigrationVerification, type VerifyOptions } from "./verify.ts";

/** What happened to one connector. */
export interface ConnectorMigration {
  readonly connector: string;
  /** Folder relative to the repository root. */
  readonly dir: string;
  /**
   * `migrated` (written), `planned` (dry run), `refused` (the Dockerfile does something the common
   * build cannot express), `kept` (verification found an unexpected difference, or could not run
   * and was not skipped with --no-verify: nothing written),
   * `failed` (an error, e.g. unreadable metadata).
   */
  readonly outcome: "migrated" | "planned" | "refused" | "kept" | "failed";
  /** Line-level reasons (refused), differences (kept), the error (failed). */
  readonly reasons: readonly string[];
  /** The error code of a failure (`RESOLUTION_FAILED` when the lock could not be resolved). */
  readonly errorCode?: string;
  readonly plan?: Omit<MigrationPlan, "metadataBefore" | "metadataAfter" | "changes">;
  readonly verification?: MigrationVerification;
  /** `--as-of`: the lock the migration writes (what it was resolved as of, per platform the pins). */
  readonly lock?: { readonly asOf: string; readonly excludeNewer: string; readonly yanked: readonly string[]; readonly pins: Readonly<Record<string, readonly string[]>> };
}

/** Options of {@link migrateOne} and {@link migrateRepository}. */
export interface MigrateRunOptions {
  readonly catalog: BaseImageCatalog;
  readonly dryRun?: boolean;
  /** Verify each migration before writing it; undefined skips verification. */
  readonly verify?: VerifyOptions;
  /**
   * Why verification cannot run when it was asked for (no engine): a migration is then not written.
   * Default: none (verification skipped on purpose, --no-verify).
   */
  readonly unverifiable?: string;
  /** Root the patch's paths are relative to. */
  readonly patchRoot: string;
  /** `--as-of`: lock each migrated connector as of a date, and verify both builds with its pins. */
  readonly lock?: MigrationLockOptions;
}

/** The result of a run: one entry per connector, and the patch of every planned or written change. */
export interface MigrationRun {
  readonly connectors: ConnectorMigration[];
  /** One patch for every change (dry run: what would be written). */
  readonly patch: string;
  readonly summary: Readonly<Record<ConnectorMigration["outcome"], number>>;
}

function reasonsOf(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  const [first, ...rest] = message.split("\n");
  return rest.length > 0 ? rest.map((r) => r.trim()).filter(Boolean) : [first ?? message];
}

/** Plans, verifies (when asked) and writes (unless a dry run) one connector's migration. */
export async function migrateOne(dir: string, relativeDir: string, options: MigrateRunOptions): Promise<{ result: ConnectorMigration; patch: string }> {
  let plan: MigrationPlan;
  try {
    plan = await planMigration(dir, options.catalog, { dryRun: options.dryRun ?? false, patchRoot: options.patchRoot });
  } catch (error) {
    const refused = AirbyteCiError.isInstance(error) && error.code === "MIGRATION_REFUSED";
    return { result: { connector: relativeDir.split("/").at(-1) ?? relativeDir, dir: relativeDir, outcome: refused ? "refused" : "failed", reasons: reasonsOf(error) }, patch: "" };
  }
  let locked: MigrationLock | undefined;
  const notes: string[] = [];
  if (options.lock && !plan.baseImagePublished) notes.push(`not locked: base image ${plan.baseImageVersion} is not published, so there is no image to resolve for`);
  else if (options.lock) {
    try {
      locked = await lockMigration(plan, options.lock);
    } catch (error) {
      const { metadataBefore: _b, metadataAfter: _a, changes: _c, ...planned } = plan;
      const errorCode = AirbyteCiError.isInstance(error) ? { errorCode: error.code } : {};
      return { result: { connector: plan.connector, dir: relativeDir, outcome: "failed", reasons: reasonsOf(error), plan: planned, ...errorCode }, patch: "" };
    }
    plan = { ...plan, changes: [...plan.changes, locked.change] };
  }
  const { metadataBefore: _b, metadataAfter: _a, changes, ...summary } = plan;
  const platform = options.verify?.platform ?? "linux/amd64";
  let verification: MigrationVerification | undefined;
  if (options.verify) verification = await verifyMigration(plan, { ...options.verify, ...(locked ? { pins: pinsOf(locked.lock, platform) } : {}) });
  const lock = locked?.lock.resolution
    ? { asOf: locked.lock.resolution.asOf, excludeNewer: locked.lock.resolution.excludeNewer, yanked: locked.lock.resolution.yanked, pins: Object.fromEntries(Object.keys(locked.lock.platforms).map((p) => [p, pinsOf(locked.lock, p as Platform)])) }
    : undefined;
  const base = { connector: plan.connector, dir: relativeDir, plan: summary, ...(verification ? { verification } : {}), ...(lock ? { lock } : {}) };
  if (verification?.status === "differences") {
    return { result: { ...base, outcome: "kept", reasons: verification.differences.filter((d) => !d.expected).map((d) => d.summary) }, patch: "" };
  }
  const unverified = verification?.status === "unverified" ? verification.detail ?? "" : options.verify === undefined ? options.unverifiable : undefined;
  // Verification was asked for (no --no-verify) and could not run: nothing is written.
  if (unverified !== undefined && !options.dryRun) {
    return { result: { ...base, outcome: "kept", reasons: [`not verified, so not written: ${unverified}; migrate with --no-verify to write it unverified`] }, patch: "" };
  }
  const reasons = [...notes, ...(unverified !== undefined ? [`not verified: ${unverified}`] : [])];
  if (!options.dryRun) applyMigration(plan);
  return { result: { ...base, outcome: options.dryRun ? "planned" : "migrated", reasons }, patch: migrationPatch(changes, options.patchRoot) };
}

/**
 * `migrate --all`: every connector `analyze` selects (by language and support level) that still
 * has a Dockerfile, one after another. A refusal or an unexpected difference concerns only its
 * connector; the others go on.
 */
export async function migrateRepository(
  root: string,
  options: Omit<MigrateRunOptions, "patchRoot"> & { languages?: string[]; supportLevels?: string[]; onConnector?: (result: ConnectorMigration) => void },
): Promise<MigrationRun> {
  const absoluteRoot = resolve(root);
  const report = await analyzeRepository(absoluteRoot, {
    ...(options.languages ? { languages: options.languages } : {}),
    ...(options.supportLevels ? { supportLevels: options.supportLevels } : {}),
  });
  const selected = new Set([...report.variants.flatMap((v) => v.connectors), ...report.unreadable.map((u) => u.connector)]);
  const { connectors } = await findConnectors(absoluteRoot);
  const results: ConnectorMigration[] = [];
  const patches: string[] = [];
  for (const connector of connectors.filter((c) => selected.has(c.technicalName))) {
    const relativeDir = toRelative(absoluteRoot, connector.dir);
    const { result, patch } = await migrateOne(connector.dir, relativeDir, { ...options, patchRoot: absoluteRoot });
    results.push(result);
    patches.push(patch);
    options.onConnector?.(result);
  }
  const summary = { migrated: 0, planned: 0, refused: 0, kept: 0, failed: 0 };
  for (const r of results) summary[r.outcome]++;
  return { connectors: results, patch: patches.join(""), summary };
}
