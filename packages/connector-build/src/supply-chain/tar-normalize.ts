/**
 * Layer tarballs made reproducible: every entry's modification time clamped to SOURCE_DATE_EPOCH
 * (in the ustar header and in PAX records), access and change times dropped, headers rechecksummed,
 * entries kept in their order (the engines write them in a sorted walk), the archive ended by
 * exactly two zero blocks. Contents, modes, owners and links are untouched.
 */
const BLOCK = 512;

function readOctal(header: Uint8Array, offset: number, length: number): number {
  const field = header.subarray(offset, offset + length);
  if ((field[0] as number) & 0x80) {
    // base-256 (GNU) for values that do not fit in octal
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    return value;
  }
  const text = Buffer.from(field).toString("latin1").replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, "0");
  if (text.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  header.set(Buffer.from(`${text}\0`, "latin1"), offset);
}

function rechecksum(header: Uint8Array): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.set(Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `, "latin1"), 148);
}

/** PAX records with times normalised: `mtime` clamped, `atime`/`ctime` dropped. */
function normalizePax(data: Uint8Array, epoch: number): Uint8Array {
  const buf = Buffer.from(data);
  const out: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const space = buf.indexOf(0x20, i);
    if (space < 0) break;
    const length = Number.parseInt(buf.toString("latin1", i, space), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    // "<length> <key>=<value>\n", the length counting bytes
    const record = buf.toString("utf8", space + 1, i + length - 1);
    i += length;
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    let value = record.slice(eq + 1);
    if (key === "atime" || key === "ctime") continue;
    if (key === "mtime") value = String(Math.min(Math.floor(Number(value)), epoch));
    const body = ` ${key}=${value}\n`;
    const bodyBytes = Buffer.byteLength(body);
    let n = bodyBytes + 1;
    while (String(n).length + bodyBytes !== n) n = String(n).length + bodyBytes;
    out.push(`${n}${body}`);
  }
  return new Uint8Array(Buffer.from(out.join(""), "utf8"));
}

/** A copy of a tar archive with normalised times (see the module comment). */
export function normalizeTar(tar: Uint8Array, epoch: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = new Uint8Array(tar.subarray(offset, offset + BLOCK));
    if (header.every((b) => b === 0)) break;
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] as number);
    let data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x" || type === "g") {
      data = normalizePax(data, epoch);
      writeOctal(header, 124, 12, data.length);
    }
    if (readOctal(header, 136, 12) > epoch) writeOctal(header, 136, 12, epoch);
    rechecksum(header);
    chunks.push(header, data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) chunks.push(new Uint8Array(pad));
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  return new Uint8Array(Buffer.concat(chunks));
}
