import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { ConnectorBuildError } from "../errors.ts";

/** Holds `<catalog>.lock` for the duration of a release: two releases on one catalog cannot interleave. */
export function lockCatalog(catalogPath: string): () => void {
  const lockPath = `${catalogPath}.lock`;
  const take = () => {
    const fd = openSync(lockPath, "wx");
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
    if (alive) {
      throw new ConnectorBuildError(
        "RELEASE_REFUSED",
        `another release holds ${lockPath} (pid ${pid}): expected one release at a time on a catalog; wait for it to finish`,
      );
    }
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
