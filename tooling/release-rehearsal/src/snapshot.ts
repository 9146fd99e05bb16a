import { cpSync, existsSync, lstatSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./run.ts";

/**
 * Copies the working tree of `repoRoot` (tracked and untracked files that git does not ignore, as
 * they are on disk, uncommitted edits included) to `dest` and commits it there as a fresh git
 * repository, so `changeset version` and `changeset publish` (which tags) only ever touch the copy.
 */
export async function snapshotWorkingTree(repoRoot: string, dest: string): Promise<{ files: number }> {
  const listed = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot });
  const paths = listed.stdout.split("\0").filter((path) => path !== "");
  let files = 0;
  for (const path of paths) {
    const source = join(repoRoot, path);
    if (!existsSync(source) && !isSymlink(source)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, path)), { recursive: true });
    cpSync(source, join(dest, path), { verbatimSymlinks: true, preserveTimestamps: true });
    files++;
  }
  const git = ["-c", "user.name=release rehearsal", "-c", "user.email=rehearsal@localhost", "-c", "commit.gpgsign=false"];
  await run("git", ["init", "-q", "-b", "main"], { cwd: dest });
  await run("git", [...git, "add", "-A"], { cwd: dest });
  await run("git", [...git, "commit", "-q", "-m", "release rehearsal: snapshot of the working tree"], { cwd: dest });
  return { files };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
