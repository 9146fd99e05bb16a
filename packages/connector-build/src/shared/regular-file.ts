import { closeSync, constants, fstat, fstatSync, open, openSync, readFile, readFileSync, close, type Stats } from "node:fs";

/** A path that exists but is not a regular file (a FIFO, a socket, a device). */
export class NotRegularFileError extends Error {
  readonly code = "ENOTREG";
  constructor(readonly path: string, kind: string, message = `${path} is ${kind}, not a regular file: expected a regular file`) {
    super(message);
    this.name = "NotRegularFileError";
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a file";
}

/** A directory fails as fs does (EISDIR, which callers describe); anything else is NotRegularFileError. */
function notRegular(path: string, stats: Stats): Error {
  if (stats.isDirectory()) return Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: "EISDIR", path });
  return new NotRegularFileError(path, kindOf(stats));
}

/** A regular file larger than an input of its kind can be (a 47 MB metadata.yaml): refused before it is read. */
export class FileTooLargeError extends NotRegularFileError {
  constructor(path: string, size: number, maxBytes: number) {
    super(path, "too large", `${path} is ${size} bytes: expected at most ${maxBytes} bytes for a file of this kind (it is read whole into memory)`);
    this.name = "FileTooLargeError";
  }
}

// O_NONBLOCK: opening a FIFO for reading would block until a writer appears; with it, open returns
// at once and fstat on the descriptor (no race with a swap of the path) tells what it is.
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The one way the toolkit reads an input file (metadata.yaml, a Dockerfile, a catalog): only a
 * regular file (symbolic links followed) is read; anything else is refused at once, never waited on.
 *
 * @throws NotRegularFileError for a FIFO, socket or device, FileTooLargeError (one) past `maxBytes`;
 * the fs error otherwise (EISDIR for a directory).
 */
export function readRegularFileSync(path: string, options: { maxBytes?: number } = {}): Buffer {
  const fd = openSync(path, FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(path, stats);
    if (options.maxBytes !== undefined && stats.size > options.maxBytes) throw new FileTooLargeError(path, stats.size, options.maxBytes);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** {@link readRegularFileSync}, on the callback API (fast for many small files). */
export function readRegularFile(path: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(path, FLAGS, (openError, fd) => {
      if (openError) return reject(openError);
      const done = (error: Error | null, data?: Buffer) => close(fd, () => (error ? reject(error) : resolve(data as Buffer)));
      fstat(fd, (statError, stats) => {
        if (statError) return done(statError);
        if (!stats.isFile()) return done(notRegular(path, stats));
        if (options.maxBytes !== undefined && stats.size > options.maxBytes) return done(new FileTooLargeError(path, stats.size, options.maxBytes));
        readFile(fd, (readError, data) => done(readError, data));
      });
    });
  });
}
