import type { Dirent } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { ConnectorBuildError } from "../errors.ts";
import { METADATA_FILE_NAME } from "./metadata.ts";
import { listDirectory } from "../shared/fs-callback.ts";
import { createLimiter, type Limiter } from "../shared/pool.ts";

/** Where connectors live in the Airbyte repository. */
export const AIRBYTE_CONNECTORS_DIR = "airbyte-integrations/connectors";

/** A folder holding a `metadata.yaml`. */
export interface DiscoveredConnector {
  /** The folder's name, e.g. `source-instagram`. */
  technicalName: string;
  /** Absolute path of the folder. */
  dir: string;
  /** Path of the folder relative to the analysed root, with `/` separators. */
  relativeDir: string;
  /** Names of the folder's direct entries (saves `stat` calls later). */
  entries: ReadonlySet<string>;
}

/** A folder the walk could not list. */
export interface DiscoveryProblem {
  /** Path relative to the analysed root. */
  path: string;
  /** What went wrong. */
  message: string;
}

/** The connectors under a root. */
export interface ConnectorDiscovery {
  /** Absolute path of the folder that was walked: `<root>/airbyte-integrations/connectors` when it exists, else root. */
  searchRoot: string;
  /** Connectors sorted by technical name, then path. */
  connectors: DiscoveredConnector[];
  /** Folders that could not be listed. */
  problems: DiscoveryProblem[];
}

/** Folder names the walk never enters: dependencies, VCS data, hidden folders (as Python's glob `**`). */
function skipped(name: string): boolean {
  return name === "node_modules" || name.startsWith(".");
}

/** Relative path with `/` separators, `.` for the root itself. */
export function toRelative(root: string, path: string): string {
  const rel = relative(root, path);
  return rel === "" ? "." : rel.split(sep).join("/");
}

/**
 * Finds the connectors under `root`: folders holding a `metadata.yaml`, at any depth. In an Airbyte
 * checkout the walk starts at `airbyte-integrations/connectors` (where the notebook's
 * `get_all_connectors_in_repo` looked); any other root is walked whole. A connector's own folder
 * is not searched further (connectors do not nest). `node_modules` and hidden folders (`.git`,
 * `.venv`…) are skipped; symbolic links to folders are not followed (no cycles, no duplicates).
 *
 * @throws ConnectorBuildError `ANALYZE_FAILED` when `root` is not a readable folder.
 */
export async function findConnectors(
  root: string,
  options: { concurrency?: number; limit?: Limiter } = {},
): Promise<ConnectorDiscovery> {
  const absoluteRoot = resolve(root);
  const limit = options.limit ?? createLimiter(options.concurrency ?? 32);
  let rootStat;
  try {
    rootStat = await stat(absoluteRoot);
  } catch (error) {
    throw new ConnectorBuildError(
      "ANALYZE_FAILED",
      `${absoluteRoot}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): expected the root of an Airbyte repository or a folder of connectors`,
      { cause: error },
    );
  }
  if (!rootStat.isDirectory()) {
    throw new ConnectorBuildError(
      "ANALYZE_FAILED",
      `${absoluteRoot}: is not a folder: expected the root of an Airbyte repository or a folder of connectors`,
    );
  }
  let searchRoot = absoluteRoot;
  const layout = join(absoluteRoot, ...AIRBYTE_CONNECTORS_DIR.split("/"));
  try {
    if ((await stat(layout)).isDirectory()) searchRoot = layout;
  } catch {
    // Not an Airbyte checkout: walk the root itself.
  }

  const connectors: DiscoveredConnector[] = [];
  const problems: DiscoveryProblem[] = [];

  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await limit(() => listDirectory(dir));
    } catch (error) {
      if (dir === searchRoot) {
        throw new ConnectorBuildError(
          "ANALYZE_FAILED",
          `${dir}: cannot be listed (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
          { cause: error },
        );
      }
      problems.push({
        path: toRelative(absoluteRoot, dir),
        message: `cannot be listed (${(error as NodeJS.ErrnoException).code ?? String(error)}); connectors under it are not analysed`,
      });
      return;
    }
    const metadata = entries.find((e) => e.name === METADATA_FILE_NAME);
    if (metadata && (metadata.isFile() || metadata.isSymbolicLink())) {
      connectors.push({
        technicalName: basename(dir),
        dir,
        relativeDir: toRelative(absoluteRoot, dir),
        entries: new Set(entries.map((e) => e.name)),
      });
      return;
    }
    await Promise.all(
      entries.filter((e) => e.isDirectory() && !skipped(e.name)).map((e) => visit(join(dir, e.name))),
    );
  };
  await visit(searchRoot);

  connectors.sort((a, b) => compare(a.technicalName, b.technicalName) || compare(a.relativeDir, b.relativeDir));
  problems.sort((a, b) => compare(a.path, b.path));
  return { searchRoot, connectors, problems };
}

/** Code-unit order: stable across locales. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
