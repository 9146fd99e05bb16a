import { gunzipSync } from "node:zlib";

/** A regular file in a package tarball, its path without npm's `package/` prefix. */
export interface TarballEntry {
  readonly path: string;
  readonly size: number;
  /** The file's text, for the files `keepText` asked for. */
  readonly text?: string;
}

/** Lists the regular files of a gzipped tar (ustar, as npm and pnpm write them). */
export function listTarball(gzipped: Uint8Array, keepText: (path: string) => boolean = () => false): TarballEntry[] {
  const tar = gunzipSync(gzipped);
  const entries: TarballEntry[] = [];
  const text = (start: number, length: number) => {
    const field = tar.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end === -1 ? length : end).toString("utf8");
  };
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    if (tar.subarray(offset, offset + 512).every((byte) => byte === 0)) break;
    const size = Number.parseInt(text(offset + 124, 12).trim() || "0", 8);
    const type = text(offset + 156, 1) || "0";
    const prefix = text(offset + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(offset, 100)}` : text(offset, 100));
    longName = undefined;
    const body = offset + 512;
    if (type === "L") longName = tar.subarray(body, body + size).toString("utf8").replace(/\0+$/, "");
    else if (type === "0") {
      const path = name.replace(/^package\//, "");
      const text = keepText(path) ? tar.subarray(body, body + size).toString("utf8") : undefined;
      entries.push(text === undefined ? { path, size } : { path, size, text });
    }
    offset = body + Math.ceil(size / 512) * 512;
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}
