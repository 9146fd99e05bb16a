import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockedRequirements } from "./poetry-lock.ts";

const example = join(import.meta.dirname, "../../../../examples/source-tickets");

const pyproject = (deps: string) => `[tool.poetry]\nname = "x"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = ">=3.9,<3.12"\n${deps}\n`;
const pkg = (name: string, version: string, extra = "") =>
  `[[package]]\nname = "${name}"\nversion = "${version}"\noptional = false\npython-versions = "*"\nfiles = [\n    {file = "${name}-${version}.tar.gz", hash = "sha256:${name.length.toString(16).padStart(64, "0")}"},\n]\n${extra}\n`;

describe("lockedRequirements", () => {
  it("pins every main dependency of the CDK example to its locked version and hashes", () => {
    const r = lockedRequirements(readFileSync(join(example, "pyproject.toml"), "utf8"), readFileSync(join(example, "poetry.lock"), "utf8"));
    expect(r.packages.get("airbyte-cdk")).toBe("3.9.6");
    expect(r.packages.get("pendulum")).toBe("2.1.2");
    const cdk = r.lines.find((l) => l.startsWith("airbyte-cdk==3.9.6"));
    expect(cdk).toMatch(/ --hash=sha256:[0-9a-f]{64}/);
    // exceptiongroup is only needed below Python 3.11: its line carries the marker for pip to evaluate.
    expect(r.lines.find((l) => l.startsWith("exceptiongroup=="))).toMatch(/; \(.*python_version < "3\.11".*\) --hash/);
    expect(r.lines.every((l) => /^[A-Za-z0-9._-]+==\S+( ; .+?)?( --hash=sha256:[0-9a-f]{64})+$/.test(l))).toBe(true);
  });

  it("follows extras, skips optional dependencies nobody asked for, and keeps edge markers", () => {
    const lock = [
      pkg("a", "1.0", `[package.dependencies]\nb = {version = "*", extras = ["fast"]}\nc = {version = "*", optional = true}\nd = {version = "*", markers = "sys_platform == \\"win32\\""}\n[package.extras]\nslow = ["c"]\n`),
      pkg("b", "2.0", `[package.dependencies]\ne = {version = "*", optional = true}\n[package.extras]\nfast = ["e (>=1)"]\n`),
      pkg("c", "3.0"),
      pkg("d", "4.0"),
      pkg("e", "5.0"),
      pkg("unused", "9.9"),
    ].join("\n");
    const r = lockedRequirements(pyproject('a = "1.0"'), lock);
    expect([...r.packages.keys()].sort()).toEqual(["a", "b", "d", "e"]);
    expect(r.lines.find((l) => l.startsWith("d=="))).toContain('; (sys_platform == "win32")');
    expect(r.lines.find((l) => l.startsWith("a=="))).not.toContain(";");
  });

  it("refuses a lock that does not match pyproject.toml, naming the package and the fix", () => {
    expect(() => lockedRequirements(pyproject('missing = "1.0"'), pkg("a", "1.0"), { pyproject: "/c/pyproject.toml", lock: "/c/poetry.lock" })).toThrow(
      /\/c\/poetry\.lock: missing \(required by \/c\/pyproject\.toml\) is not locked.*poetry lock --no-update/,
    );
  });

  it("refuses invalid TOML with the file name", () => {
    expect(() => lockedRequirements("[tool.poetry", pkg("a", "1.0"))).toThrow(/pyproject\.toml: not valid TOML/);
  });
});
