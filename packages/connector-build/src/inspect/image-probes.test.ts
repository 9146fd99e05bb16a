import { describe, expect, it } from "vitest";
import { normalizeDistributionName, parseApkInfo, parseDpkgQuery, parsePrintenvLines, parsePrintenvNul } from "./image-probes.ts";

describe("printenv parsing", () => {
  it("splits each entry on its first '=' (values may hold '=', where the seed's split('=') raised)", () => {
    expect(parsePrintenvNul("A=1\0JAVA_OPTS=-Da=b -Dc=d\0PAD=YWJj==\0EMPTY=\0MULTI=one\nTWO=2\0")).toEqual({
      A: "1",
      JAVA_OPTS: "-Da=b -Dc=d",
      PAD: "YWJj==",
      EMPTY: "",
      MULTI: "one\nTWO=2",
    });
  });

  it("reads plain printenv lines, a line that is not NAME=… continuing the previous value", () => {
    expect(parsePrintenvLines("A=1\nB=x=y\nC=first\nsecond line\nD=\n")).toEqual({ A: "1", B: "x=y", C: "first\nsecond line", D: "" });
  });
});

describe("system package parsing", () => {
  it("keeps installed dpkg packages with their versions, names as dpkg --get-selections prints them", () => {
    const output = [
      "ii \tadduser\t3.134",
      "ii \tinstall-info\t6.8-6+b1", // the seed's .replace("install", "") made this "-info"
      "rc \tremoved-pkg\t1.0", // deinstall selection: the seed kept it as "removed-pkgde"
      "ii \tlibc6-dev:arm64\t2.36-9",
      "iU \tunpacked\t2",
      "",
    ].join("\n");
    expect(parseDpkgQuery(output)).toEqual({ adduser: "3.134", "install-info": "6.8-6+b1", "libc6-dev:arm64": "2.36-9" });
  });

  it("splits apk info -v lines into name and version", () => {
    expect(parseApkInfo("musl-1.2.2-r7\nca-certificates-bundle-20211220-r0\npy3-foo-bar-1.0_rc1-r12\nweird\n")).toEqual({
      musl: "1.2.2-r7",
      "ca-certificates-bundle": "20211220-r0",
      "py3-foo-bar": "1.0_rc1-r12",
      weird: "",
    });
  });
});

it("normalises distribution names as PEP 503 does", () => {
  expect(["Airbyte_CDK", "airbyte.cdk", "airbyte--cdk", "airbyte-cdk"].map(normalizeDistributionName)).toEqual(Array(4).fill("airbyte-cdk"));
});
