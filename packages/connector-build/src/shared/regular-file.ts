import { closeSync, constants, fstat, fstatSync, open, openSync, readFile, readFileSync, close, type Stats } from "node:fs";

/** A path that exists but is not a regular file (a FIFO, a socket, a device). */
export class NotRegularFileError extends Error {
  readonly code = "ENOTREG";
  constructor(readonly path: string, kind: string) {
    super(`${path} is ${kind}, not a regular file: expected a regular file`);
    this.name = "NotRegularFileError";
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a file";
}

/** A directory fails as fs does (EISDIR, which callers already describe); anything else is NotRegularFileError. */
function notRegular(path: string, stats: Stats): Error {
  if (stats.isDirectory()) return Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: "EISDIR", path });
  return new NotRegularFileError(path, kindOf(stats));
}

// O_NONBLOCK: opening a FIFO for reading would block until a writer appears; with it, open returns
// at once and fstat on the descriptor (no race with a swap of the path) tells what it is.
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The one way the toolkit reads an input file (metadata.yaml, a Dockerfile, a catalog): only a
 * regular file (symbolic links followed) is read; anything else is refused at once, never waited on.
 *
 * @throws NotRegularFileError for a FIFO, socket or device; the fs error otherwise (EISDIR for a directory).
 */
export function readRegularFileSync(path: string): Buffer {
  const fd = openSync(path, FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(path, stats);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** {@link readRegularFileSync}, on the callback API (fast for many small files). */
export function readRegularFile(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(path, FLAGS, (openError, fd) => {
      if (openError) return reject(openError);
      const done = (error: Error | null, data?: Buffer) => close(fd, () => (error ? reject(error) : resolve(data as Buffer)));
      fstat(fd, (statError, stats) => {
        if (statError) return done(statError);
        if (!stats.isFile()) return done(notRegular(path, stats));
        readFile(fd, (readError, data) => done(readError, data));
      });
    });
  });
}
