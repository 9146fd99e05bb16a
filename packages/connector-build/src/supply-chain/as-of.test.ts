import { describe, expect, it } from "vitest";
import { asOfInput, parseAsOf, parseCompiled, parsePythonVersion, uvFailureReasons, uvPlatform } from "./as-of.ts";
import { hasCredentials, pipBuildArgs, withStageArgs } from "../migrate/pinned.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("--as-of", () => {
  it("reads a date as the end of that day (UTC), an instant as itself, and git", () => {
    expect(parseAsOf("2023-09-09")).toEqual({ kind: "instant", asOf: "2023-09-09", excludeNewer: "2023-09-10T00:00:00Z" });
    expect(parseAsOf("2023-12-31")).toMatchObject({ excludeNewer: "2024-01-01T00:00:00Z" });
    expect(parseAsOf("2023-09-09T12:30:00+02:00")).toMatchObject({ excludeNewer: "2023-09-09T10:30:00Z" });
    expect(parseAsOf("git")).toEqual({ kind: "git" });
  });

  it("refuses anything else with what it expects (exit 2)", () => {
    for (const bad of ["2023-02-30", "2023-13-01", "yesterday", "2023/09/09", ""]) {
      expect(() => parseAsOf(bad), bad).toThrowError(expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/expected a date \(YYYY-MM-DD/) }));
    }
    expect(() => parsePythonVersion("python3.9")).toThrowError(/expected a CPython 3 version/);
    expect(parsePythonVersion("3.9")).toBe("3.9");
  });

  it("resolves requirements.txt first, then setup.py, then a pyproject.toml without poetry.lock", () => {
    const dir = mkdtempSync(join(tmpdir(), "as-of-input-"));
    expect(asOfInput(dir)).toBeUndefined();
    writeFileSync(join(dir, "pyproject.toml"), "");
    expect(asOfInput(dir)).toBe("pyproject.toml");
    writeFileSync(join(dir, "poetry.lock"), "");
    expect(asOfInput(dir)).toBeUndefined();
    writeFileSync(join(dir, "setup.py"), "");
    expect(asOfInput(dir)).toBe("setup.py");
    writeFileSync(join(dir, "requirements.txt"), "-e .\n");
    expect(asOfInput(dir)).toBe("requirements.txt");
  });

  it("maps a platform and the image's newest manylinux tag to uv's --python-platform", () => {
    expect(uvPlatform("linux/amd64", ["cp311-cp311-manylinux_2_36_x86_64", "cp311-cp311-manylinux_2_35_x86_64"])).toBe("x86_64-manylinux_2_36");
    expect(uvPlatform("linux/arm64", ["cp39-cp39-manylinux_2_31_aarch64"])).toBe("aarch64-manylinux_2_31");
    expect(uvPlatform("linux/amd64", ["cp39-cp39-manylinux_2_30_x86_64"])).toBe("x86_64-manylinux_2_28");
    expect(() => uvPlatform("linux/s390x", [])).toThrowError(/linux\/amd64 and linux\/arm64 only/);
  });

  it("reads uv's output: pins with hashes; the connector itself (-e ., file paths) left out", () => {
    const out = [
      "-e .",
      "airbyte-cdk==0.51.13 \\",
      "    --hash=sha256:" + "a".repeat(64) + " \\",
      "    --hash=sha256:" + "b".repeat(64),
      "PyYAML==6.0.1 \\",
      "    --hash=sha256:" + "c".repeat(64),
      "source-x @ file:///tmp/x",
      "",
    ].join("\n");
    expect(parseCompiled(out)).toEqual([
      { name: "airbyte-cdk", version: "0.51.13", hashes: [`sha256:${"a".repeat(64)}`, `sha256:${"b".repeat(64)}`] },
      { name: "pyyaml", version: "6.0.1", hashes: [`sha256:${"c".repeat(64)}`] },
    ]);
    expect(() => parseCompiled("airbyte-cdk>=0.1\n")).toThrowError(/cannot read uv's resolved line 'airbyte-cdk>=0.1'/);
  });

  it("keeps uv's reasons, without its hints and the Python download warning", () => {
    const stderr = [
      "warning: The requested Python version 3.9 is not available; 3.11.7 will be used to build dependencies instead.",
      "error: No solution found when resolving dependencies",
      "  cause: Because airbyte-protocol-models==1.0.0 was yanked (reason: oops) and airbyte-cdk==0.33.0 depends on airbyte-protocol-models==1.0.0, we can conclude that airbyte-cdk==0.33.0 cannot be used.",
      "hint: something",
    ].join("\n");
    expect(uvFailureReasons(stderr)).toEqual([
      "No solution found when resolving dependencies",
      "Because airbyte-protocol-models==1.0.0 was yanked (reason: oops) and airbyte-cdk==0.33.0 depends on airbyte-protocol-models==1.0.0, we can conclude that airbyte-cdk==0.33.0 cannot be used.",
    ]);
  });
});

describe("the verification's Dockerfile build with the lock's pins", () => {
  it("declares the pip settings as build arguments after every FROM, stages included", () => {
    const dockerfile = "FROM python:3.9 as base\nFROM base as builder\nRUN pip install .\nFROM base\nCOPY --from=builder /install /usr/local\n";
    const args = pipBuildArgs({ indexUrl: "http://127.0.0.1:3141/root/pypi/+simple/", constraint: "http://127.0.0.1:4000/constraints.txt" });
    expect(args).toEqual({ PIP_INDEX_URL: "http://127.0.0.1:3141/root/pypi/+simple/", PIP_TRUSTED_HOST: "127.0.0.1:3141", PIP_CONSTRAINT: "http://127.0.0.1:4000/constraints.txt" });
    const out = withStageArgs(dockerfile, { PIP_CONSTRAINT: "http://h/c.txt" }).split("\n");
    expect(out.filter((l) => l === 'ARG PIP_CONSTRAINT="http://h/c.txt"')).toHaveLength(3);
    expect(out.slice(0, 3)).toEqual(["FROM python:3.9 as base", 'ARG PIP_CONSTRAINT="http://h/c.txt"', "FROM base as builder"]);
    expect(withStageArgs(dockerfile, {})).toBe(dockerfile);
  });

  it("does not hand credentials to a Dockerfile build (its history would keep them)", () => {
    expect(hasCredentials({ indexUrl: "https://user:pw@example.com/simple" })).toBe(true);
    expect(hasCredentials({ extraIndexUrls: ["https://token@example.com/simple"] })).toBe(true);
    expect(hasCredentials({ indexUrl: "http://127.0.0.1:3141/root/pypi/+simple/" })).toBe(false);
  });
});
