import { existsSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";
import { parsePlatform } from "@airbyte-ci/base-images";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { findDockerClient } from "../engines/docker/docker-client.ts";
import type { Engine } from "../engines/engine.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError, EXIT } from "../errors.ts";
import { migrateOne, migrateRepository, type ConnectorMigration, type MigrationRun } from "../migrate/migrate-all.ts";
import { migrationTarget } from "../migrate/migrate.ts";
import { withCleanupOnInterrupt } from "./signals.ts";
import type { MigrationLockOptions } from "../migrate/pinned.ts";
import { hasPipIndex, parsePipIndexOptions } from "../connector/pip-index.ts";
import { checkUploadTimes, findUv, parseAsOf, parsePythonVersion } from "../supply-chain/as-of.ts";
import { DEFAULT_INDEX_URL } from "../supply-chain/lock.ts";

/** Options of {@link migrateCommand}. */
export interface MigrateCommandOptions {
  catalog?: string;
  dryRun?: boolean;
  json?: boolean;
  /** `--all <repo-root>`: every selected connector with a Dockerfile. */
  all?: string;
  language?: string;
  supportLevel?: string;
  /** `--no-verify` sets it false. Default: verify when an engine is available. */
  verify?: boolean;
  engine?: EngineChoice;
  platform?: string;
  /** `--before-from <image=address>`: FROM images replaced in the "before" build. */
  beforeFrom?: string[];
  /** `--as-of <date|git>`: write connector-build.lock resolved as of then; verify both builds with its pins. */
  asOf?: string;
  pythonVersion?: string;
  allowYanked?: boolean;
  uv?: string;
  /** Index the resolution reads (must give upload times). */
  indexUrl?: string;
  pipIndexUrl?: string;
  pipExtraIndexUrl?: string[];
  caBundle?: string;
}

function list(value: string | undefined): string[] | undefined {
  return value?.split(",").map((v) => v.trim()).filter(Boolean);
}

function parseSubstitutions(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf("=");
    if (eq <= 0 || eq === value.length - 1) throw new ConnectorBuildError("USAGE", `--before-from '${value}': expected <image as written in FROM>=<address>, e.g. python:3.9-slim=127.0.0.1:5000/python:3.11-bookworm@sha256:…`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

/** An engine for verification, or why there is none (verification is then skipped, and said so). */
async function verificationEngine(choice: EngineChoice | undefined): Promise<{ engine?: Engine; reason?: string }> {
  if (choice === undefined || choice === "auto") {
    // The "before" image is a Dockerfile build: Docker builds it (Dagger's engine here lowers recipes only).
    try {
      await findDockerClient();
    } catch (error) {
      return { reason: `no Docker engine to build the Dockerfile with (${(error as Error).message.split("\n")[0]})` };
    }
    return { engine: await selectEngine("docker") };
  }
  return { engine: await selectEngine(choice) };
}

function line(r: ConnectorMigration): string {
  const version = r.plan ? ` → ${r.plan.newVersion} on base ${r.plan.baseImageVersion}` : "";
  const verified = `${r.verification ? ` [${r.verification.status}]` : ""}${r.lock ? ` [locked as of ${r.lock.asOf}: ${Object.values(r.lock.pins)[0]?.length ?? 0} pins${r.lock.yanked.length > 0 ? `, yanked accepted: ${r.lock.yanked.join(" ")}` : ""}]` : ""}`;
  const head = `${r.outcome.padEnd(8)} ${r.dir}${r.outcome === "migrated" || r.outcome === "planned" ? version : ""}${verified}`;
  return [head, ...r.reasons.map((reason) => `           ${reason}`)].join("\n");
}

function unpublishedNote(catalog: BaseImageCatalog): string {
  const latest = catalog.latestStable();
  return latest && !latest.publishedAddress
    ? `note: planned against the ${catalog.name} catalog's latest version ${latest.version}, which is not published: baseImage carries its tag without a digest; publish it or pass --catalog <local|path> to migrate for real\n`
    : "";
}

/**
 * `connector-build migrate <dir>` and `migrate --all <repo-root>`: plan, verify (build before and
 * after, compare) when an engine is available, then write. Exit 0 when every selected connector
 * migrated (or would), 1 when one was refused, kept or failed; 2 for bad input.
 */
export async function migrateCommand(dir: string | undefined, opts: MigrateCommandOptions): Promise<number> {
  if (opts.all !== undefined && dir !== undefined) throw new ConnectorBuildError("USAGE", "migrate: give a connector folder or --all <repo-root>, not both");
  const target = opts.all ?? dir;
  if (target === undefined) throw new ConnectorBuildError("USAGE", "migrate: expected <connector-dir> or --all <repo-root>");
  if (!existsSync(target) || !statSync(target).isDirectory()) throw new ConnectorBuildError("USAGE", `migrate: ${target} is not a directory: expected ${opts.all !== undefined ? "a repository root" : "a connector folder holding metadata.yaml and a Dockerfile"}`);
  if (opts.all === undefined && (opts.language !== undefined || opts.supportLevel !== undefined)) throw new ConnectorBuildError("USAGE", "migrate: --language and --support-level select connectors for --all");
  const { catalog } = loadCatalog(opts.catalog);
  const platform = parsePlatform(opts.platform ?? "linux/amd64", "--platform");
  const fromSubstitutions = parseSubstitutions(opts.beforeFrom);
  // Refuse an unusable catalog before any work: a real migration needs a published version.
  migrationTarget(catalog, opts.dryRun ?? false);
  const asOf = opts.asOf !== undefined ? parseAsOf(opts.asOf) : undefined;
  if (asOf === undefined && (opts.pythonVersion !== undefined || opts.allowYanked || opts.uv !== undefined || opts.indexUrl !== undefined)) {
    throw new ConnectorBuildError("USAGE", "migrate: --python-version, --allow-yanked, --uv and --index-url apply to the lock: add --as-of <YYYY-MM-DD|git>");
  }
  const pythonVersion = opts.pythonVersion !== undefined ? parsePythonVersion(opts.pythonVersion) : undefined;
  const pipIndex = parsePipIndexOptions({ indexUrl: opts.pipIndexUrl, extraIndexUrls: opts.pipExtraIndexUrl, caBundle: opts.caBundle !== undefined ? resolve(opts.caBundle) : undefined });
  const uv = asOf !== undefined ? findUv(opts.uv !== undefined ? resolve(opts.uv) : undefined) : undefined;
  const resolutionIndex = opts.indexUrl ?? DEFAULT_INDEX_URL;
  if (asOf !== undefined) await checkUploadTimes(resolutionIndex);

  const shouldVerify = opts.verify !== false && !opts.dryRun;
  let engine: Engine | undefined;
  let skipped: string | undefined;
  if (shouldVerify) ({ engine, reason: skipped } = await verificationEngine(opts.engine));
  const progress = (l: string) => process.stderr.write(`  ${l}\n`);
  let lockEngine: Engine | undefined;
  if (asOf !== undefined && engine === undefined) lockEngine = await selectEngine(opts.engine ?? "auto");
  const lock: MigrationLockOptions | undefined =
    asOf !== undefined
      ? {
          engine: (engine ?? lockEngine) as Engine,
          catalog,
          asOf,
          indexUrl: resolutionIndex,
          ...(uv !== undefined ? { uv } : {}),
          ...(pythonVersion !== undefined ? { pythonVersion } : {}),
          ...(opts.allowYanked ? { allowYanked: true } : {}),
          ...(pipIndex.caBundle !== undefined ? { caBundle: pipIndex.caBundle } : {}),
        }
      : undefined;
  const verify = engine ? { engine, catalog, platform, fromSubstitutions, ...(hasPipIndex(pipIndex) ? { pipIndex } : {}), ...(opts.json ? {} : { onProgress: (l: string) => (/^[\w.-]+: (building|comparing)/.test(l) ? progress(l) : undefined) }) } : undefined;
  if (skipped) process.stderr.write(`migrate: not verifying: ${skipped}\n`);

  let run: MigrationRun;
  try {
    run = await withCleanupOnInterrupt("the migration", async (): Promise<MigrationRun> => {
      if (opts.all !== undefined) {
        return await migrateRepository(opts.all, {
          catalog,
          ...(skipped !== undefined ? { unverifiable: skipped } : {}),
          ...(lock ? { lock } : {}),
          dryRun: opts.dryRun ?? false,
          ...(verify ? { verify } : {}),
          ...(list(opts.language) ? { languages: list(opts.language) } : {}),
          ...(list(opts.supportLevel) ? { supportLevels: list(opts.supportLevel) } : {}),
          ...(opts.json ? {} : { onConnector: (r) => process.stderr.write(`${line(r)}\n`) }),
        });
      } else {
        const absolute = resolve(target);
        const cwd = process.cwd();
        const rel = relative(cwd, absolute);
        const patchRoot = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? cwd : resolve(absolute, "..");
        const { result, patch } = await migrateOne(absolute, relative(patchRoot, absolute).split("\\").join("/"), { catalog, dryRun: opts.dryRun ?? false, ...(verify ? { verify } : {}), ...(lock ? { lock } : {}), ...(skipped !== undefined ? { unverifiable: skipped } : {}), patchRoot });
        if (result.outcome === "failed" || (result.outcome === "refused" && !opts.json)) {
          throw new ConnectorBuildError(result.outcome === "refused" ? "MIGRATION_REFUSED" : "INVALID_METADATA", `connector ${result.connector}: ${result.outcome === "refused" ? "cannot migrate to the common build" : "migration failed"}:\n  ${result.reasons.join("\n  ")}`);
        }
        if (!opts.json) process.stderr.write(`${line(result)}\n`);
        return { connectors: [result], patch, summary: { migrated: 0, planned: 0, refused: 0, kept: 0, failed: 0, [result.outcome]: 1 } };
      }
    });
  } finally {
    await engine?.close();
    await lockEngine?.close();
  }
  if (opts.json) process.stdout.write(`${JSON.stringify({ dryRun: opts.dryRun ?? false, catalog: catalog.name, ...run }, null, 2)}\n`);
  else if (opts.dryRun) process.stdout.write(run.patch);
  if (!opts.json) {
    const s = run.summary;
    process.stderr.write(unpublishedNote(catalog));
    process.stderr.write(`${opts.dryRun ? `${s.planned} would migrate` : `${s.migrated} migrated`}, ${s.refused} refused, ${s.kept} kept (not verified, or unexpected differences), ${s.failed} failed, of ${run.connectors.length} connector(s)\n`);
  }
  return run.connectors.every((r) => r.outcome === "migrated" || r.outcome === "planned") ? EXIT.ok : EXIT.failure;
}
