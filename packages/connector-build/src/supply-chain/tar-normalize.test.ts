import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runProcess } from "../shared/process.ts";
import { TarNormalizer, normalizeTar } from "./tar-normalize.ts";

/** A tree with the same contents and different times, archived by GNU tar in pax format (mtime, atime, ctime records). */
async function archive(mtime: number): Promise<{ tar: Uint8Array; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "tar-normalize-"));
  const root = join(dir, "root");
  mkdirSync(join(root, "pkg", "ünïcode-a-rather-long-directory-name-that-needs-more-than-one-hundred-bytes-in-a-ustar-header-field"), { recursive: true });
  writeFileSync(join(root, "pkg", "module.py"), "print('hello')\n");
  writeFileSync(join(root, "pkg", "ünïcode-a-rather-long-directory-name-that-needs-more-than-one-hundred-bytes-in-a-ustar-header-field", "data.json"), "{}\n");
  for (const path of ["pkg/module.py", "pkg", "."]) utimesSync(join(root, path), mtime + 0.5, mtime + 0.25);
  const file = join(dir, "layer.tar");
  const run = await runProcess("tar", ["--format=pax", "--sort=name", "--numeric-owner", "-cf", file, "-C", root, "."]);
  if (run.exitCode !== 0) throw new Error(run.stderr);
  return { tar: new Uint8Array(readFileSync(file)), dir };
}

describe("normalizeTar", () => {
  it("gives the same bytes for trees that differ only in times, and a valid archive with times clamped to the epoch", async () => {
    const a = await archive(1_800_000_000);
    const b = await archive(1_900_000_000);
    expect(Buffer.from(a.tar).equals(Buffer.from(b.tar))).toBe(false);
    const epoch = 1_700_000_000;
    const na = normalizeTar(a.tar, epoch);
    const nb = normalizeTar(b.tar, epoch);
    expect(Buffer.from(na).equals(Buffer.from(nb))).toBe(true);
    const file = join(a.dir, "normalized.tar");
    writeFileSync(file, na);
    const list = await runProcess("tar", ["--full-time", "--utc", "-tvf", file]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/2023-11-14 22:13:20 \.\/pkg\/module\.py/);
    expect(list.stdout).toContain("ünïcode-a-rather-long-directory-name");
    expect(list.stdout).not.toMatch(/20(27|30)-/);
    // contents are untouched
    const out = join(a.dir, "out");
    mkdirSync(out);
    expect((await runProcess("tar", ["-xf", file, "-C", out])).exitCode).toBe(0);
    expect(readFileSync(join(out, "pkg", "module.py"), "utf8")).toBe("print('hello')\n");
  });

  it("keeps earlier times as they are", async () => {
    const a = await archive(1_000_000_000);
    const list = join(a.dir, "n.tar");
    writeFileSync(list, normalizeTar(a.tar, 1_700_000_000));
    expect((await runProcess("tar", ["--full-time", "--utc", "-tvf", list])).stdout).toMatch(/2001-09-09 01:46:40 \.\/pkg\/module\.py/);
  });
});

describe("TarNormalizer (streaming)", () => {
  it("writes what normalizeTar writes, whatever the pieces the archive arrives in (PAX records, long names, cut archives)", async () => {
    const { tar } = await archive(1_800_000_000);
    const epoch = 1_700_000_000;
    const whole = normalizeTar(tar, epoch);
    for (const piece of [1, 7, 511, 512, 513, 4096, tar.length]) {
      const out: Uint8Array[] = [];
      const normalizer = new TarNormalizer(epoch, (c) => out.push(c));
      for (let i = 0; i < tar.length; i += piece) normalizer.write(tar.subarray(i, i + piece));
      normalizer.end();
      expect(Buffer.concat(out).equals(Buffer.from(whole)), `pieces of ${piece} bytes`).toBe(true);
    }
    // An archive cut inside an entry's data, and inside a header, comes out as the whole-buffer function writes it.
    for (const cut of [cutInData(tar), 1536 + 100]) {
      const part = tar.subarray(0, cut);
      const out: Uint8Array[] = [];
      const normalizer = new TarNormalizer(epoch, (c) => out.push(c));
      for (let i = 0; i < part.length; i += 300) normalizer.write(part.subarray(i, i + 300));
      normalizer.end();
      expect(Buffer.concat(out).equals(Buffer.from(normalizeTar(part, epoch))), `cut at ${cut}`).toBe(true);
    }
  });
});

/** An offset inside the data of the archive's first regular file (after its header). */
function cutInData(tar: Uint8Array): number {
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    const size = Number.parseInt(Buffer.from(header.subarray(124, 136)).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    if (String.fromCharCode(header[156] as number) === "0" && size > 4) return offset + 512 + 4;
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error("no regular file with data");
}
