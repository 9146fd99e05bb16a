import { readFile, readdir, type Dirent } from "node:fs";

// The callback API of node:fs, wrapped: for many small files it is about twice as fast as
// node:fs/promises, whose readFile goes through a FileHandle and several thread-pool round trips.

/** Reads a whole file as bytes. */
export function readBytes(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => readFile(path, (error, data) => (error ? reject(error) : resolve(data))));
}

/** Reads a whole file as UTF-8 text (a BOM is kept, invalid sequences become U+FFFD). */
export function readText(path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    readFile(path, "utf8", (error, data) => (error ? reject(error) : resolve(data))),
  );
}

/** Lists a folder with entry types. */
export function listDirectory(path: string): Promise<Dirent[]> {
  return new Promise((resolve, reject) =>
    readdir(path, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries))),
  );
}
