import { closeSync, fchmodSync, fchownSync, fsyncSync, ftruncateSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Writes a file so that readers see the old content or the new one, never a truncated mix:
 * write a sibling temporary file, fsync it, rename it over the target. The file keeps its identity:
 * a symbolic link is written through (its target gets the new content, the link stays a link), an
 * existing file keeps its permission bits (a read-only 444 stays 444) and its owner and group (as
 * root, a user's file stays theirs). A file with several hard links is rewritten in place instead
 * (a rename would detach this name from the others): every link sees the new content.
 */
export function writeFileAtomic(path: string, content: string): void {
  let target = path;
  let existing: Stats | undefined;
  try {
    target = realpathSync(path);
    existing = statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (existing !== undefined && existing.isFile() && existing.nlink > 1) {
    writeInPlace(target, content);
    return;
  }
  const mode = existing !== undefined ? existing.mode & 0o7777 : 0o644;
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o600);
    writeSync(fd, content);
    if (existing !== undefined && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) keepOwner(fd, existing);
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Gives the new file the old one's owner and group; a user who may not (not root, not the owner) keeps their own. */
function keepOwner(fd: number, existing: Stats): void {
  try {
    fchownSync(fd, existing.uid, existing.gid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
  }
}

/** Rewrites a file's content through its own inode (hard links kept): not atomic, so only for files with other links. */
function writeInPlace(target: string, content: string): void {
  const fd = openSync(target, "r+");
  try {
    const bytes = Buffer.from(content, "utf8");
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
