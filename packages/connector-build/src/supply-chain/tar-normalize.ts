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
  const normalizer = new TarNormalizer(epoch, (chunk) => chunks.push(chunk));
  normalizer.write(tar);
  normalizer.end();
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * {@link normalizeTar} over a stream: the archive goes through in pieces of any size and comes out
 * byte for byte as {@link normalizeTar} writes it, holding no more than one header (or one PAX
 * record block) at a time.
 */
export class TarNormalizer {
  /** Bytes of an unfinished header, or of a PAX entry's data. */
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private state: "header" | "data" | "pax" | "skip" | "done" = "header";
  private header = new Uint8Array(BLOCK);
  /** Data bytes left to pass (data), gather (pax) or drop (skip: the source's padding). */
  private left = 0;
  /** Data bytes of the current entry passed so far (for its padding). */
  private passed = 0;
  private padAfterSkip = 0;

  constructor(
    private readonly epoch: number,
    private readonly emit: (chunk: Uint8Array) => void,
  ) {}

  private take(bytes: Uint8Array, wanted: number): Uint8Array | undefined {
    this.pending.push(bytes);
    this.pendingLength += bytes.length;
    if (this.pendingLength < wanted) return undefined;
    const all = Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;
    return new Uint8Array(all.buffer, all.byteOffset, all.length);
  }

  private startEntry(header: Uint8Array): void {
    this.header = new Uint8Array(header);
    const size = readOctal(this.header, 124, 12);
    const type = String.fromCharCode(this.header[156] as number);
    this.padAfterSkip = Math.ceil(size / BLOCK) * BLOCK - size;
    if (type === "x" || type === "g") {
      this.state = "pax";
      this.left = size;
      if (size === 0) this.finishPax(new Uint8Array(0));
      return;
    }
    this.emitHeader();
    this.state = "data";
    this.left = size;
    this.passed = 0;
    if (size === 0) this.endData();
  }

  private emitHeader(): void {
    if (readOctal(this.header, 136, 12) > this.epoch) writeOctal(this.header, 136, 12, this.epoch);
    rechecksum(this.header);
    this.emit(this.header);
  }

  private finishPax(data: Uint8Array): void {
    const normalized = normalizePax(data, this.epoch);
    writeOctal(this.header, 124, 12, normalized.length);
    this.emitHeader();
    this.emit(normalized);
    this.passed = normalized.length;
    this.endData();
  }

  /** Pads what was passed to a whole block, then drops the source's own padding. */
  private endData(): void {
    const pad = (BLOCK - (this.passed % BLOCK)) % BLOCK;
    if (pad > 0) this.emit(new Uint8Array(pad));
    this.state = this.padAfterSkip > 0 ? "skip" : "header";
    this.left = this.padAfterSkip;
  }

  /** Feeds the next piece of the archive. */
  write(chunk: Uint8Array): void {
    let bytes = chunk;
    while (bytes.length > 0 && this.state !== "done") {
      if (this.state === "header") {
        const need = BLOCK - this.pendingLength;
        const block = this.take(bytes.subarray(0, need), BLOCK);
        bytes = bytes.subarray(Math.min(need, bytes.length));
        if (block === undefined) continue;
        if (block.every((b) => b === 0)) this.state = "done";
        else this.startEntry(block);
      } else if (this.state === "data") {
        const n = Math.min(this.left, bytes.length);
        this.emit(bytes.slice(0, n));
        this.passed += n;
        this.left -= n;
        bytes = bytes.subarray(n);
        if (this.left === 0) this.endData();
      } else if (this.state === "pax") {
        const n = Math.min(this.left, bytes.length);
        this.left -= n;
        const piece = bytes.slice(0, n);
        bytes = bytes.subarray(n);
        if (this.left > 0) {
          this.pending.push(piece);
          this.pendingLength += n;
        } else this.finishPax(this.take(piece, 0) as Uint8Array);
      } else {
        const n = Math.min(this.left, bytes.length);
        this.left -= n;
        bytes = bytes.subarray(n);
        if (this.left === 0) this.state = "header";
      }
    }
  }

  /** Ends the archive: an entry cut short is padded to a block (as {@link normalizeTar} did), then two zero blocks. */
  end(): void {
    if (this.state === "data") {
      const pad = (BLOCK - (this.passed % BLOCK)) % BLOCK;
      if (pad > 0) this.emit(new Uint8Array(pad));
    } else if (this.state === "pax") {
      const data = this.take(new Uint8Array(0), 0) ?? new Uint8Array(0);
      this.finishPaxTruncated(data);
    }
    this.state = "done";
    this.emit(new Uint8Array(BLOCK * 2));
  }

  private finishPaxTruncated(data: Uint8Array): void {
    const normalized = normalizePax(data, this.epoch);
    writeOctal(this.header, 124, 12, normalized.length);
    this.emitHeader();
    this.emit(normalized);
    const pad = (BLOCK - (normalized.length % BLOCK)) % BLOCK;
    if (pad > 0) this.emit(new Uint8Array(pad));
  }
}
