import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockInputs, lockMismatches, type ConnectorLock } from "../connector/lock-file.ts";
import { artifactVersion, chooseArtifact, parseRequirementLine, wheelTags } from "./python-index.ts";

const AMD64_TAGS = ["cp311-cp311-manylinux_2_36_x86_64", "cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64", "cp311-abi3-manylinux_2_28_x86_64", "cp39-abi3-manylinux_2_28_x86_64", "py3-none-any"];
const h = (c: string) => c.repeat(64);

describe("wheel tags and artifact choice", () => {
  it("expands compressed tag sets and reads versions from file names", () => {
    expect(wheelTags("six-1.16.0-py2.py3-none-any.whl")).toEqual(["py2-none-any", "py3-none-any"]);
    expect(wheelTags("orjson-3.11.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")).toEqual([
      "cp311-cp311-manylinux_2_17_x86_64",
      "cp311-cp311-manylinux2014_x86_64",
    ]);
    expect(wheelTags("genson-1.2.2.tar.gz")).toBeUndefined();
    expect(artifactVersion("poetry_core-2.5.0-py3-none-any.whl")).toBe("2.5.0");
    expect(artifactVersion("pendulum-2.1.2.tar.gz")).toBe("2.1.2");
  });

  it("parses locked requirement lines", () => {
    expect(parseRequirementLine(`colorama==0.4.6 ; (sys_platform == "win32") --hash=sha256:${h("a")} --hash=sha256:${h("b")}`)).toEqual({
      name: "colorama",
      version: "0.4.6",
      marker: '(sys_platform == "win32")',
      hashes: [`sha256:${h("a")}`, `sha256:${h("b")}`],
    });
    expect(() => parseRequirementLine("requests>=2")).toThrowError(/expected name==version \[; marker\] --hash=sha256:…/);
  });

  it("picks the best-ranked wheel among the locked hashes, an sdist only when no wheel fits", () => {
    const files = [
      { filename: "cryptography-42.0.8-cp39-abi3-manylinux_2_28_x86_64.whl", url: "https://x/a.whl", sha256: h("1") },
      { filename: "cryptography-42.0.8-cp39-abi3-manylinux_2_28_aarch64.whl", url: "https://x/b.whl", sha256: h("2") },
      { filename: "cryptography-42.0.8-cp39-abi3-win_amd64.whl", url: "https://x/c.whl", sha256: h("3") },
      { filename: "cryptography-42.0.8.tar.gz", url: "https://x/d.tar.gz", sha256: h("4") },
      { filename: "cryptography-42.0.8-cp311-cp311-manylinux_2_36_x86_64.whl", url: "https://x/e.whl", sha256: h("5") },
    ];
    const locked = { name: "cryptography", version: "42.0.8", hashes: ["1", "2", "3", "4"].map((c) => `sha256:${h(c)}`) };
    // e.whl would rank first but its hash is not locked: never chosen.
    expect(chooseArtifact(locked, files, AMD64_TAGS)).toMatchObject({ url: "https://x/a.whl", kind: "wheel" });
    expect(chooseArtifact(locked, files, ["cp311-cp311-manylinux_2_17_aarch64", "cp39-abi3-manylinux_2_28_aarch64"])).toMatchObject({ url: "https://x/b.whl" });
    expect(chooseArtifact(locked, files, ["cp311-cp311-musllinux_1_1_x86_64"])).toMatchObject({ url: "https://x/d.tar.gz", kind: "sdist" });
    expect(() => chooseArtifact({ ...locked, hashes: [`sha256:${h("3")}`] }, files, AMD64_TAGS)).toThrowError(/none of its 1 locked file\(s\) installs on this platform/);
  });
});

describe("lock inputs", () => {
  it("names every changed, added or removed input and another base image", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-inputs-"));
    writeFileSync(join(dir, "pyproject.toml"), "a");
    writeFileSync(join(dir, "poetry.lock"), "b");
    const lock: ConnectorLock = {
      lockVersion: 1,
      connector: "source-x",
      baseImage: "r/base:1.0.0@sha256:1",
      platforms: { "linux/amd64": { baseManifest: `sha256:${h("1")}`, pythonVersion: "3.11.2", artifacts: [], buildArtifacts: [] } },
      inputs: lockInputs(dir),
    };
    expect(lockMismatches(dir, lock, lock.baseImage, ["linux/amd64"])).toEqual([]);
    writeFileSync(join(dir, "poetry.lock"), "c");
    writeFileSync(join(dir, "build_customization.ts"), "export default {}");
    expect(lockMismatches(dir, lock, "r/base:1.0.1@sha256:2", ["linux/amd64", "linux/arm64"])).toEqual([
      "metadata.yaml's baseImage is r/base:1.0.1@sha256:2 but the lock was made for r/base:1.0.0@sha256:1",
      expect.stringMatching(/^poetry\.lock changed \(locked sha256:\w{12}…, now sha256:\w{12}…\)$/),
      "build_customization.ts was added since the lock was made",
      "it has no linux/arm64 (locked: linux/amd64)",
    ]);
  });
});
