// Outputs replace only regular files, and every output path is checked before building (exit 2):
// a device, a directory where a tarball goes, a folder that takes no new files. The per-tag publish
// lock is shared by every process on the machine, whatever its TMPDIR.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProductionCatalog, parseCatalog } from "@airbyte-ci/base-images";
import { afterEach, describe, expect, it } from "vitest";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { exitCodeFor } from "../errors.ts";
import { buildConnectors, type BuildConnectorsOptions } from "./build-connectors.ts";
import { preflightBuild } from "./preflight.ts";

const EXAMPLE = join(import.meta.dirname, "../../../../examples/source-hello");
const production = loadProductionCatalog().toJSON();
const catalog = parseCatalog({
  ...production,
  versions: production.versions.map((v) => (v.version === "1.0.0" ? { ...v, published: { digest: "sha256:dd17e347fbda94f7c3abff539be298a65af2d7fc27a307d89297df1081a45c27" } } : v)),
});

function example(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "output-paths-")), "source-hello");
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

async function refused(dirs: string[], options: Omit<BuildConnectorsOptions, "engine" | "catalog" | "platforms">): Promise<{ message: string; exit: number; builds: number }> {
  const engine = new FakeEngine();
  const error = await buildConnectors(dirs, { engine, catalog, platforms: ["linux/amd64"], ...options }).then(
    () => new Error("expected a refusal"),
    (e: unknown) => e as Error,
  );
  return { message: error.message, exit: exitCodeFor(error), builds: engine.builds.length };
}

describe("only regular files are replaced, every output path checked before building", () => {
  it("--output oci:/dev/null --force: a character device is never replaced", async () => {
    const r = await refused([example()], { output: { kind: "oci", path: "/dev/null" }, force: true });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/\/dev\/null is a character device: expected a new file or a regular file to replace/);
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("an oci: folder where the connector's .tar name is a directory (with --force too)", async () => {
    const out = mkdtempSync(join(tmpdir(), "output-paths-oci-"));
    mkdirSync(join(out, "source-hello.tar"));
    const r = await refused([example()], { output: { kind: "oci", path: out }, force: true });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/source-hello\.tar is a directory: expected a new file or a regular file to replace/);
    expect(readdirSync(out)).toEqual(["source-hello.tar"]);
  });

  it("a folder that takes no new files is found before building", async () => {
    // /proc exists and is a folder, but no file can be created there, even as root (a read-only
    // folder stops only other users: root ignores permission bits).
    const r = await refused([example()], { output: { kind: "oci", path: "/proc/source-hello.tar" } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/--output oci:\/proc\/source-hello\.tar: cannot create a file in \/proc \(\w+\): expected a writable folder/);
    expect(existsSync("/proc/source-hello.tar")).toBe(false);
  });
});

describe("the per-tag publish lock", () => {
  const savedTmp = process.env.TMPDIR;
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it("two builds of one tag with different TMPDIRs meet on the same lock", async () => {
    const dir = example();
    const output = { kind: "registry", prefix: "registry.example/tmpdir-lock" } as const;
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), "tmp-a-"));
    const first = await preflightBuild([dir], { output });
    try {
      process.env.TMPDIR = mkdtempSync(join(tmpdir(), "tmp-b-"));
      const second = await preflightBuild([dir], { output }).catch((e: unknown) => e as Error);
      expect((second as Error).message).toMatch(/another build \(pid \d+\) is publishing registry\.example\/tmpdir-lock\/airbyte\/source-hello:0\.1\.0 now/);
    } finally {
      first.release();
    }
  });
});

describe("the SBOMs beside an oci: tarball are output paths too", () => {
  it("a directory where an SBOM goes is refused before building", async () => {
    const out = mkdtempSync(join(tmpdir(), "output-paths-sbom-"));
    mkdirSync(join(out, "image.tar.amd64.cdx.json"));
    const r = await refused([example()], { output: { kind: "oci", path: join(out, "image.tar") } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/image\.tar\.amd64\.cdx\.json is a directory: expected a new file or a regular file to replace/);
  });
});
