import { renameSync, writeFileSync } from "node:fs";

/** Writes a file through a temporary sibling and a rename: a reader never sees half a result file. */
export function writeFileAtomic(path: string, text: string): void {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}
