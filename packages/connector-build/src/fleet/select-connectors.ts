import { basename, resolve } from "node:path";
import { ConnectorBuildError } from "../errors.ts";
import { selectModifiedConnectors, type ModifiedSelection } from "./modified.ts";
import { parseShard, selectShard, type ShardSpec } from "./shard.ts";

/** How `build` chooses its connectors: the folders given, or `--modified`, then `--shard`. */
export interface FleetSelectionOptions {
  /** Treat the folders as roots and keep the connectors changed since `since`. Default: false. */
  readonly modified?: boolean;
  /** Git ref compared with; default: see {@link selectModifiedConnectors}. Only with `modified`. */
  readonly since?: string;
  /** `<i>/<n>`: keep shard i of n. Default: every connector. */
  readonly shard?: string;
}

/** The connector folders to build and the lines explaining the choice. */
export interface FleetSelection {
  dirs: string[];
  /** Why each connector was selected (for stderr). */
  explanation: string[];
  modified?: ModifiedSelection;
  shard?: ShardSpec & { of: number };
}

/** Applies `--modified`/`--since`/`--shard` to the folders given on the command line (bad flags fail before any work). */
export async function selectFleet(dirs: readonly string[], options: FleetSelectionOptions): Promise<FleetSelection> {
  if (options.since !== undefined && !options.modified) throw new ConnectorBuildError("USAGE", "--since is only meaningful with --modified");
  const shard = options.shard !== undefined ? parseShard(options.shard) : undefined;
  const explanation: string[] = [];
  let selection: FleetSelection;
  if (options.modified) {
    const modified = await selectModifiedConnectors(dirs.length > 0 ? dirs : ["."], options.since !== undefined ? { since: options.since } : {});
    explanation.push(
      `--modified: ${modified.selected.length} of ${modified.discovered} connectors changed since ${modified.since} (${modified.baseCommit.slice(0, 12)})` +
        (modified.outsideConnectors > 0 ? `; ${modified.outsideConnectors} changed file(s) outside any connector not followed` : ""),
    );
    for (const c of modified.selected) explanation.push(`  ${c.technicalName}: ${c.reasons.join("; ")}`);
    selection = { dirs: modified.selected.map((c) => c.dir), explanation, modified };
  } else {
    if (dirs.length === 0) throw new ConnectorBuildError("USAGE", "no connector directory given: expected connector-build build <connector-dir>... or --modified [<root>...]");
    selection = { dirs: dirs.map((d) => resolve(d)), explanation };
  }
  if (shard) {
    const all = selection.dirs.length;
    selection.dirs = selectShard(selection.dirs, shard, (dir) => basename(dir));
    selection.shard = { ...shard, of: all };
    explanation.push(`--shard ${shard.index}/${shard.count}: ${selection.dirs.length} of ${all} connectors: ${selection.dirs.map((d) => basename(d)).join(", ") || "(none)"}`);
  }
  return selection;
}
