import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { parse } from "yaml";
import { ConnectorBuildError } from "../errors.ts";
import { compare, findConnectors, toRelative, type DiscoveredConnector } from "../connector/discover.ts";
import { METADATA_FILE_NAME } from "../connector/metadata.ts";
import { runProcess } from "../shared/process.ts";

/** A connector `--modified` selected, and why. */
export interface SelectedConnector {
  /** The folder's name, e.g. `source-hello`. */
  technicalName: string;
  /** Absolute path of the folder. */
  dir: string;
  /** Why it was selected, e.g. `base image 1.0.0 → 1.1.0`, `2 files changed: main.py, setup.py`. */
  reasons: string[];
}

/** What `--modified` compared and what it found. */
export interface ModifiedSelection {
  /** The git ref the user gave, or how the default was chosen (`merge-base with origin/main`, `HEAD~1`). */
  since: string;
  /** The commit compared with. */
  baseCommit: string;
  /** Connectors found under the roots. */
  discovered: number;
  /** Changed files that belong to no connector under the roots (shared code is not followed). */
  outsideConnectors: number;
  /** Selected connectors, by technical name. */
  selected: SelectedConnector[];
}

async function git(cwd: string, args: readonly string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const r = await runProcess("git", args, { cwd }).catch((error: unknown) => {
    throw new ConnectorBuildError("USAGE", `--modified needs git: could not run it (${(error as Error).message})`);
  });
  return { ok: r.exitCode === 0, out: r.stdout, err: r.stderr.trim() };
}

/**
 * The commit to compare with: `since` when given; else the merge-base of HEAD and its upstream
 * branch (a local branch that tracks one), else `HEAD~1` (on CI, a pull request's merge commit
 * has the target branch as first parent, so HEAD~1 is what the pull request changes).
 */
async function resolveBase(top: string, since: string | undefined): Promise<{ since: string; commit: string }> {
  if (since !== undefined) {
    const r = await git(top, ["rev-parse", "--verify", "--quiet", `${since}^{commit}`]);
    if (!r.ok) throw new ConnectorBuildError("USAGE", `--since '${since}': not a commit in the git repository ${top}: expected a branch, tag or commit`);
    return { since, commit: r.out.trim() };
  }
  const upstream = await git(top, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"]);
  if (upstream.ok) {
    const base = await git(top, ["merge-base", "HEAD", "@{upstream}"]);
    if (base.ok) return { since: `merge-base with ${upstream.out.trim()}`, commit: base.out.trim() };
  }
  const parent = await git(top, ["rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"]);
  if (!parent.ok) {
    throw new ConnectorBuildError("USAGE", `--modified: HEAD of ${top} has no parent and its branch no upstream: pass --since <git-ref>`);
  }
  return { since: "HEAD~1", commit: parent.out.trim() };
}

function nulList(text: string): string[] {
  return text.split("\0").filter(Boolean);
}

/** `data.connectorBuildOptions.baseImage` of a metadata.yaml text; undefined when absent or unreadable. */
function baseImageOf(text: string): string | undefined {
  try {
    const doc = parse(text) as { data?: { connectorBuildOptions?: { baseImage?: unknown } } } | null;
    const value = doc?.data?.connectorBuildOptions?.baseImage;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `…:1.1.0@sha256:…` → `1.1.0`; the whole reference when it has no tag. */
function baseImageVersion(reference: string): string {
  const withoutDigest = reference.replace(/@.*$/, "");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(colon + 1) : reference;
}

function describeBaseChange(before: string | undefined, after: string | undefined): string | undefined {
  if (before === after) return undefined;
  if (after === undefined) return "base image removed";
  if (before === undefined) return `base image set to ${baseImageVersion(after)}`;
  const [b, a] = [baseImageVersion(before), baseImageVersion(after)];
  return b === a ? `base image ${a} re-pinned to another digest` : `base image ${b} → ${a}`;
}

function describeFiles(files: readonly string[]): string {
  const shown = files.slice(0, 3).join(", ");
  return `${files.length} file${files.length === 1 ? "" : "s"} changed: ${shown}${files.length > 3 ? `, … (+${files.length - 3})` : ""}`;
}

/**
 * Selects the connectors under `roots` whose files differ between `since` and the working tree
 * (committed, staged, unstaged and untracked changes), and names the reasons: files changed, new
 * connector, base image version changed (its metadata.yaml `baseImage` line). Files outside every
 * connector folder (shared code, CI files) select nothing: they are counted, not followed.
 *
 * @throws ConnectorBuildError `USAGE` when a root is not in a git repository or `since` is not a commit.
 */
export async function selectModifiedConnectors(roots: readonly string[], options: { since?: string } = {}): Promise<ModifiedSelection> {
  if (roots.length === 0) throw new ConnectorBuildError("USAGE", "--modified: no folder to search: expected one or more roots");
  const first = roots[0] as string;
  const topResult = await git(first, ["rev-parse", "--show-toplevel"]).catch(() => ({ ok: false, out: "", err: "" }));
  if (!topResult.ok) throw new ConnectorBuildError("USAGE", `--modified: ${first} is not in a git repository${topResult.err ? ` (${topResult.err})` : ""}: expected a folder of a git checkout`);
  const top = realpathSync(topResult.out.trim());
  const base = await resolveBase(top, options.since);

  const connectors = new Map<string, DiscoveredConnector & { rel: string }>();
  for (const root of roots) {
    const discovery = await findConnectors(root).catch((error: unknown) => {
      throw new ConnectorBuildError("USAGE", `--modified: ${(error as Error).message}`);
    });
    for (const c of discovery.connectors) {
      const rel = toRelative(top, realpathSync(c.dir));
      if (rel.startsWith("../")) throw new ConnectorBuildError("USAGE", `--modified: ${c.dir} is outside the git repository ${top}: expected every root in one repository`);
      connectors.set(rel, { ...c, rel });
    }
  }

  const diff = await git(top, ["diff", "--name-only", "--no-renames", "-z", base.commit, "--"]);
  if (!diff.ok) throw new ConnectorBuildError("USAGE", `--modified: git diff against ${base.commit} failed: ${diff.err}`);
  const untracked = await git(top, ["ls-files", "--others", "--exclude-standard", "-z"]);
  const changed = [...new Set([...nulList(diff.out), ...nulList(untracked.out)])].sort(compare);

  const byConnector = new Map<string, string[]>();
  let outside = 0;
  for (const file of changed) {
    let owner: string | undefined;
    for (let dir = posix.dirname(file); dir !== "." && dir !== "/"; dir = posix.dirname(dir)) {
      if (connectors.has(dir)) {
        owner = dir;
        break;
      }
    }
    if (owner === undefined) {
      outside++;
      continue;
    }
    const files = byConnector.get(owner) ?? [];
    files.push(posix.relative(owner, file));
    byConnector.set(owner, files);
  }

  const selected: SelectedConnector[] = [];
  for (const [rel, files] of byConnector) {
    const connector = connectors.get(rel);
    if (!connector) continue;
    const reasons: string[] = [];
    if (files.includes(METADATA_FILE_NAME)) {
      const before = await git(top, ["show", `${base.commit}:${rel}/${METADATA_FILE_NAME}`]);
      if (!before.ok) {
        reasons.push(`new connector since ${base.since}`);
      } else {
        const current = await readFile(join(top, rel, METADATA_FILE_NAME), "utf8").catch(() => "");
        const change = describeBaseChange(baseImageOf(before.out), baseImageOf(current));
        if (change) reasons.push(change);
      }
    }
    reasons.push(describeFiles(files));
    selected.push({ technicalName: connector.technicalName, dir: connector.dir, reasons });
  }
  selected.sort((a, b) => compare(a.technicalName, b.technicalName) || compare(a.dir, b.dir));
  return { since: base.since, baseCommit: base.commit, discovered: connectors.size, outsideConnectors: outside, selected };
}
