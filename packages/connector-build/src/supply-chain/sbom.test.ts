import { createHash } from "node:crypto";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { describe, expect, it } from "vitest";
import { parseDpkgStatus, parseOsRelease, parsePythonDistributions, recordHashToHex, type ImageContents } from "./image-contents.ts";
import { imageSbom, indexSbom, serializeSbom } from "./sbom.ts";

const DPKG_STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libpython3.11-minimal
Status: install ok installed
Architecture: amd64
Source: python3.11 (3.11.2-6)
Version: 3.11.2-6+deb12u1
`;

const recordHash = (content: string) => createHash("sha256").update(content).digest("base64url");

const PYTHON_OUTPUT = JSON.stringify({
  python: "3.11.2",
  distributions: [
    {
      name: "requests",
      version: "2.31.0",
      license: "Apache 2.0",
      licenseExpression: null,
      classifiers: ["License :: OSI Approved :: Apache Software License"],
      location: "/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info",
      files: [
        ["requests/__init__.py", "sha256", recordHash("init"), 4],
        ["requests-2.31.0.dist-info/RECORD", null, null, null],
      ],
    },
    { name: "airbyte-cdk", version: "3.9.6", license: null, licenseExpression: "MIT", classifiers: [], location: null, files: [] },
    { name: "legacy", version: "0.1", license: "a very long license text\nwith lines", classifiers: ["License :: OSI Approved :: BSD License"], files: [] },
  ],
});

const contents: ImageContents = {
  distro: "debian-12",
  debianPackages: parseDpkgStatus(DPKG_STATUS),
  pythonVersion: "3.11.2",
  pythonDistributions: parsePythonDistributions(PYTHON_OUTPUT, "test").distributions,
};
const digest = (c: string) => `sha256:${c.repeat(64)}`;

async function assertValid(json: string): Promise<void> {
  expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(json)).toBeNull();
}

describe("image contents parsers", () => {
  it("reads installed packages from dpkg's status, with their source package", () => {
    expect(contents.debianPackages).toEqual([
      { name: "libc6", version: "2.36-9+deb12u4", architecture: "amd64", source: "glibc", maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>" },
      { name: "libpython3.11-minimal", version: "3.11.2-6+deb12u1", architecture: "amd64", source: "python3.11", sourceVersion: "3.11.2-6" },
    ]);
  });

  it("reads os-release and RECORD hashes", () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toBe("debian-12");
    expect(recordHashToHex(recordHash("init"))).toBe(createHash("sha256").update("init").digest("hex"));
  });

  it("keeps short License fields and License-Expression, drops license texts, keeps only sha256 RECORD entries", () => {
    const [requests, cdk, legacy] = contents.pythonDistributions;
    expect(requests).toMatchObject({ name: "requests", license: "Apache 2.0", files: [{ path: "requests/__init__.py", size: 4 }] });
    expect(requests?.files).toHaveLength(1);
    expect(cdk?.license).toBe("MIT");
    expect(legacy?.license).toBeUndefined();
    expect(legacy?.licenseClassifiers).toEqual(["License :: OSI Approved :: BSD License"]);
  });
});

describe("CycloneDX SBOMs", () => {
  it("a platform SBOM is valid CycloneDX 1.6 listing the image, its base, Debian packages and Python distributions with file hashes", async () => {
    const bom = imageSbom(
      { repository: "127.0.0.1:5000/airbyte/source-x", tag: "0.1.0", digest: digest("a") },
      "linux/amd64",
      contents,
      { name: "127.0.0.1:5000/airbyte/python-connector-base:1.0.0", digest: digest("b") },
    );
    const json = serializeSbom(bom);
    await assertValid(json);
    const doc = JSON.parse(json);
    expect(doc.specVersion).toBe("1.6");
    expect(doc.metadata.timestamp).toBeUndefined();
    expect(doc.metadata.component).toMatchObject({ type: "container", name: "127.0.0.1:5000/airbyte/source-x", version: "0.1.0", hashes: [{ alg: "SHA-256", content: "a".repeat(64) }] });
    const byName = new Map<string, Record<string, unknown>>(doc.components.map((c: Record<string, unknown> & { name: string }) => [c.name, c]));
    expect(byName.get("libc6")?.purl).toBe("pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12");
    expect(byName.get("airbyte-cdk")).toMatchObject({ purl: "pkg:pypi/airbyte-cdk@3.9.6", licenses: [{ license: { id: "MIT" } }] });
    expect(byName.get("requests")?.licenses).toEqual([{ license: { name: "Apache 2.0" } }]);
    expect(byName.get("legacy")?.licenses).toEqual([{ license: { name: "BSD License" } }]);
    expect(byName.get("requests")?.components).toEqual([
      { type: "file", name: "requests/__init__.py", "bom-ref": "pkg:pypi/requests@2.31.0#requests/__init__.py", hashes: [{ alg: "SHA-256", content: createHash("sha256").update("init").digest("hex") }] },
    ]);
    expect(byName.get("127.0.0.1:5000/airbyte/python-connector-base")).toMatchObject({ type: "container", version: "1.0.0", hashes: [{ alg: "SHA-256", content: "b".repeat(64) }] });
    expect(serializeSbom(imageSbom({ repository: "127.0.0.1:5000/airbyte/source-x", tag: "0.1.0", digest: digest("a") }, "linux/amd64", contents, undefined))).toBe(
      serializeSbom(imageSbom({ repository: "127.0.0.1:5000/airbyte/source-x", tag: "0.1.0", digest: digest("a") }, "linux/amd64", contents, undefined)),
    );
  });

  it("an index SBOM lists each platform image and the union of their packages, without file components", async () => {
    const arm: ImageContents = { ...contents, debianPackages: contents.debianPackages.map((p) => ({ ...p, architecture: "arm64" })) };
    const json = serializeSbom(
      indexSbom(
        { repository: "127.0.0.1:5000/airbyte/source-x", tag: "0.1.0", digest: digest("c") },
        [
          { platform: "linux/amd64", subject: { repository: "127.0.0.1:5000/airbyte/source-x", digest: digest("a") }, contents, sbomReference: "127.0.0.1:5000/airbyte/source-x:sha256-aaa.sbom" },
          { platform: "linux/arm64", subject: { repository: "127.0.0.1:5000/airbyte/source-x", digest: digest("d") }, contents: arm },
        ],
        undefined,
      ),
    );
    await assertValid(json);
    const doc = JSON.parse(json);
    const names = doc.components.map((c: { name: string }) => c.name);
    expect(names.filter((n: string) => n === "libc6")).toHaveLength(2); // one per architecture
    expect(names.filter((n: string) => n === "airbyte-cdk")).toHaveLength(1);
    expect(doc.components.filter((c: { type: string }) => c.type === "container")).toHaveLength(2);
    expect(doc.components.every((c: { components?: unknown }) => c.components === undefined)).toBe(true);
    expect(doc.components.find((c: { name: string; properties?: Array<{ value: string }> }) => c.properties?.some((p) => p.value === "linux/amd64"))?.externalReferences).toEqual([
      { url: "127.0.0.1:5000/airbyte/source-x:sha256-aaa.sbom", type: "bom", comment: "the SBOM of this platform image, with file hashes" },
    ]);
  });
});
