import { ConnectorBuildError } from "../errors.ts";
import { takePidLock } from "../shared/pid-lock.ts";

/** Holds `<catalog>.lock` for the duration of a release: two releases on one catalog cannot interleave. */
export function lockCatalog(catalogPath: string): () => void {
  const lockPath = `${catalogPath}.lock`;
  return takePidLock(
    lockPath,
    (pid) => new ConnectorBuildError("RELEASE_REFUSED", `another release holds ${lockPath} (pid ${pid}): expected one release at a time on a catalog; wait for it to finish`),
  );
}
