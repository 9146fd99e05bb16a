import { accessSync, closeSync, constants, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";

/**
 * The folder for locks every process on this machine must see, whatever its TMPDIR: the system's
 * lock folder `/run/lock` (`/var/lock` links there; world-writable with the sticky bit on Linux),
 * else `/tmp` itself (never `$TMPDIR`, which differs between processes).
 */
export function machineLockDir(candidates: readonly string[] = ["/run/lock", "/var/lock", "/tmp"]): string {
  for (const dir of candidates) {
    try {
      if (!statSync(dir).isDirectory()) continue;
      accessSync(dir, constants.W_OK | constants.X_OK);
      return dir;
    } catch {
      // absent or not writable: the next one
    }
  }
  throw new Error(`no writable lock folder: expected one of ${candidates.join(", ")}`);
}

/**
 * Takes a lock file holding this process's id (created exclusively). A lock left by a process that
 * no longer runs is taken over; one held by a live process calls `refuse(pid)`, whose error is thrown.
 * Returns the release function (idempotent).
 */
export function takePidLock(lockPath: string, refuse: (pid: number) => Error): () => void {
  const take = () => {
    const fd = openSync(lockPath, "wx", 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  };
  try {
    take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    let alive = false;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) throw refuse(pid);
    rmSync(lockPath, { force: true });
    take();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(lockPath, { force: true });
  };
}
