import { randomBytes } from "node:crypto";
import { closeSync, openSync, renameSync, rmSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";

/** What a path that is not a regular file is, for messages. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/** The stats of `path` (links followed), or undefined when nothing is there. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Why a file cannot be written at `path`, or undefined when it can: an output replaces nothing but
 * a regular file (never a directory, a device such as /dev/null, a FIFO or a socket), and an existing
 * one only when `replace` is set.
 */
export function outputFileProblem(path: string, options: { replace: boolean }): string | undefined {
  const stats = statOrUndefined(path);
  if (stats === undefined) return undefined;
  if (!stats.isFile()) return `${path} is ${kindOf(stats)}: expected a new file or a regular file to replace`;
  if (!options.replace) return `${path} already exists: expected a new file (or --force to replace it)`;
  return undefined;
}

/**
 * Why no file can be created in `folder`, or undefined when one can: tried for real (a file created
 * and removed), since permission bits do not tell (root ignores them; a read-only mount refuses anyway).
 */
export function writableFolderProblem(folder: string): string | undefined {
  const stats = statOrUndefined(folder);
  if (stats === undefined) return `the folder ${folder} does not exist: expected an existing folder`;
  if (!stats.isDirectory()) return `${folder} is ${kindOf(stats)}: expected a folder`;
  const probe = join(folder, `.airbyte-ci-write-check-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    closeSync(openSync(probe, "wx", 0o600));
  } catch (error) {
    return `cannot create a file in ${folder} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): expected a writable folder`;
  } finally {
    rmSync(probe, { force: true });
  }
  return undefined;
}

/**
 * Moves a finished `partial` file to `target`, replacing only a regular file: what appeared there
 * meanwhile (a directory, a device) is left alone and the partial file removed.
 *
 * @throws Error naming the problem.
 */
export function replaceRegularFile(partial: string, target: string): void {
  const problem = outputFileProblem(target, { replace: true });
  if (problem !== undefined) {
    rmSync(partial, { force: true });
    throw new Error(problem);
  }
  renameSync(partial, target);
}
