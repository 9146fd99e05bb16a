/**
 * `migrate --as-of`: the migration writes a `connector-build.lock` resolved as of a date, and the
 * verification builds the "before" image (the Dockerfile) and the "after" image (the common build)
 * with the same pins, so the comparison is between like and like. The pins reach both builds as a
 * pip constraints file served on loopback for the time of the builds (builds use host networking);
 * the Dockerfile build receives it, and the index settings, as stage-scoped build arguments (ARG
 * after each FROM), which pip reads from the environment and the image's config does not keep.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Platform } from "@airbyte-ci/base-images";
import { parseFromInstructions } from "../dockerfile/from.ts";
import { pipIndexSecrets, PIP_INDEX_SECRETS, type PipIndexOptions } from "../connector/pip-index.ts";
import { asOfFor, type AsOfSpec } from "../supply-chain/as-of.ts";
import { LOCK_FILE_NAME, type ConnectorLock } from "../connector/lock-file.ts";
import { lockConnectors, type LockOptions } from "../supply-chain/lock.ts";
import type { FileChange } from "../shared/text-diff.ts";
import { applyMigration, type MigrationPlan } from "./migrate.ts";

/** How `migrate --as-of` locks each migrated connector. */
export type MigrationLockOptions = Omit<LockOptions, "wheelhouse" | "asOf"> & { readonly asOf: AsOfSpec };

/** The lock a migration writes, as a change of the plan, and the lock itself. */
export interface MigrationLock {
  readonly change: FileChange;
  readonly lock: ConnectorLock;
}

/**
 * Locks the connector as it will be after the migration (a copy with the plan applied, so the
 * lock's inputs and baseImage are the migrated ones). `--as-of git` reads the date of the
 * connector's own last commit, before the copy.
 */
export async function lockMigration(plan: MigrationPlan, options: MigrationLockOptions): Promise<MigrationLock> {
  const asOf: AsOfSpec = options.asOf.kind === "git" ? { kind: "instant", ...(await asOfFor(plan.dir, options.asOf)) } : options.asOf;
  const work = mkdtempSync(join(tmpdir(), "migrate-lock-"));
  try {
    const copy = join(work, basename(plan.dir));
    cpSync(plan.dir, copy, { recursive: true });
    applyMigration(plan, copy);
    const [result] = await lockConnectors([copy], { ...options, asOf });
    if (result === undefined) throw new Error(`lock of ${copy} returned nothing`);
    const lockPath = join(plan.dir, LOCK_FILE_NAME);
    const before = existsSync(lockPath) ? readFileSync(lockPath, "utf8") : undefined;
    return { change: { path: lockPath, before, after: readFileSync(result.path, "utf8") }, lock: result.lock };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The lock's pins for one platform, as constraint lines (`name==version`). */
export function pinsOf(lock: ConnectorLock, platform: Platform): string[] {
  return (lock.platforms[platform]?.artifacts ?? []).map((a) => `${a.name}==${a.version}`);
}

/** Serves `text` at a loopback URL until closed (a constraints file for builds on host networking). */
export async function serveText(text: string, name = "constraints.txt"): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === `/${name}`) {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end(text);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/${name}`,
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}

/** The build arguments that carry index settings (and a constraint) into a Dockerfile build's pip. */
export function pipBuildArgs(options: PipIndexOptions | undefined): Record<string, string> {
  const secrets = pipIndexSecrets(options);
  const names: Record<string, string> = {
    [PIP_INDEX_SECRETS.indexUrl]: "PIP_INDEX_URL",
    [PIP_INDEX_SECRETS.extraIndexUrl]: "PIP_EXTRA_INDEX_URL",
    [PIP_INDEX_SECRETS.trustedHost]: "PIP_TRUSTED_HOST",
    [PIP_INDEX_SECRETS.constraint]: "PIP_CONSTRAINT",
  };
  const args: Record<string, string> = {};
  for (const [secret, value] of Object.entries(secrets)) {
    const name = names[secret];
    if (name !== undefined) args[name] = value;
  }
  return args;
}

/** True when a URL among the settings carries credentials (a Dockerfile build would keep them in its history). */
export function hasCredentials(options: PipIndexOptions | undefined): boolean {
  return [options?.indexUrl, ...(options?.extraIndexUrls ?? [])].some((u) => {
    if (u === undefined) return false;
    try {
      const url = new URL(u);
      return url.username !== "" || url.password !== "";
    } catch {
      return false;
    }
  });
}

/** The Dockerfile with `ARG name="value"` lines after each FROM: in scope for that stage's RUN steps only. */
export function withStageArgs(dockerfile: string, args: Readonly<Record<string, string>>): string {
  const entries = Object.entries(args);
  if (entries.length === 0) return dockerfile;
  const lines = dockerfile.split("\n");
  const declared = entries.map(([name, value]) => `ARG ${name}="${value.replace(/["\\]/g, "\\$&")}"`);
  const fromLines = new Set(parseFromInstructions(dockerfile).map((f) => f.line - 1));
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    out.push(line);
    if (fromLines.has(i)) out.push(...declared);
  }
  return out.join("\n");
}
