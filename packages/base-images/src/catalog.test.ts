import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  catalogJsonSchema,
  loadProductionCatalog,
  parseCatalog,
  productionCatalogPath,
  validateCatalog,
  type CatalogData,
} from "./catalog.ts";
import { fixtureCatalog } from "../scripts/fixture-catalog.ts";
import { productionSeedVersion, productionVersion110, productionVersion200, SEED_ROOT_IMAGES } from "../scripts/production-seed.ts";
import { recipeRuntimeUser } from "./runtime-user.ts";
import { evaluateSanityCheck } from "./sanity-check.ts";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const ROOT = `docker.io/library/python:3.9.18-bookworm@${D("a")}`;

function catalogWith(versions: Array<Partial<CatalogData["versions"][number]> & { version: string }>): CatalogData {
  return {
    name: "test",
    repository: "docker.io/airbyte/python-connector-base",
    versions: versions.map((v) => ({
      changelog: `release ${v.version}`,
      rootImages: { "linux/amd64": ROOT },
      recipe: [],
      sanityChecks: [{ kind: "command", name: "ok", argv: ["true"], expect: {} }],
      ...v,
    })),
  };
}

describe("production catalog", () => {
  const catalog = loadProductionCatalog();

  it("holds 1.0.0 with the seed's two digests", () => {
    const v = catalog.get("1.0.0");
    expect(v.rootImage("linux/amd64").digest).toBe("sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58");
    expect(v.rootImage("linux/arm64").digest).toBe("sha256:0d132e30eb9325d53c790738e5478e9abffc98b69115e7de429d7c6fc52dddac");
    expect(v.recipeFor("linux/arm64").baseAddress).toBe(SEED_ROOT_IMAGES["linux/arm64"]);
  });

  it("is exactly what the seed's proposal generates (data and code cannot drift)", () => {
    const data = JSON.parse(readFileSync(productionCatalogPath, "utf8")) as CatalogData;
    const v100 = data.versions.find((v) => v.version === "1.0.0");
    const { published: _p, dockerfiles: _d, ...recorded } = v100 ?? ({} as CatalogData["versions"][number]);
    expect(recorded).toEqual(productionSeedVersion());
  });

  it("records 1.1.0 (Poetry) exactly as the code generates it, unpublished: nothing resolves to it yet", () => {
    const data = JSON.parse(readFileSync(productionCatalogPath, "utf8")) as CatalogData;
    const v110 = data.versions.find((v) => v.version === "1.1.0");
    expect(v110).toEqual(productionVersion110());
    const v = catalog.get("1.1.0");
    expect(v.published).toBeUndefined();
    expect(v.rootImages).toEqual(catalog.get("1.0.0").rootImages);
    expect(catalog.latestStable()?.version).toBe("2.0.0");
    expect(() => catalog.resolveAddress(`docker.io/airbyte/python-connector-base:1.1.0@${D("a")}`)).toThrowError(/1\.1\.0 .*is in the catalog but not published yet/);
    const names = v.sanityChecks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["pip is 23.2.1", "poetry is 2.2.1", "poetry-plugin-export is 1.9.0", "poetry is not importable from the system Python"]));
    const execs = v.recipe.operations.flatMap((o) => (o.op === "withExec" ? [o.args.join(" ")] : []));
    expect(execs).toContain("/opt/poetry/venv/bin/python -m pip install --disable-pip-version-check poetry==2.2.1 poetry-plugin-export==1.9.0");
    // 1.1.0 is 1.0.0 plus Poetry: every operation of 1.0.0 but its version labels is still there, in order.
    const ops100 = catalog.get("1.0.0").data.recipe.filter((o) => !(o.op === "withLabel" && o.value === "1.0.0"));
    const ops110 = v.data.recipe.filter((o) => ops100.some((p) => JSON.stringify(p) === JSON.stringify(o)));
    expect(ops110).toEqual(ops100);
  });

  it("records 2.0.0 (non-root) exactly as the code generates it, unpublished, with its changelog", () => {
    const data = JSON.parse(readFileSync(productionCatalogPath, "utf8")) as CatalogData;
    expect(data.versions.find((v) => v.version === "2.0.0")).toEqual(productionVersion200());
    const v = catalog.get("2.0.0");
    expect(v.published).toBeUndefined();
    expect(v.changelog).toMatch(/airbyte \(uid\/gid 1000\)/);
    // 1.1.0's operations, then the user's, and USER airbyte last.
    const ops = v.recipe.operations;
    expect(ops.at(-1)).toEqual({ op: "withUser", name: "airbyte" });
    expect(recipeRuntimeUser(v.recipe)).toEqual({ user: "airbyte", home: "/home/airbyte" });
    expect(recipeRuntimeUser(catalog.get("1.1.0").recipe)).toEqual({ user: "root", home: undefined });
    const execs = ops.flatMap((o) => (o.op === "withExec" ? [o.args.join(" ")] : []));
    expect(execs).toEqual(
      expect.arrayContaining([
        "groupadd --system --gid 1000 airbyte",
        "useradd --system --uid 1000 --gid 1000 --home-dir /home/airbyte --create-home --shell /bin/bash airbyte",
        "chmod 1777 /tmp",
      ]),
    );
    const names = v.sanityChecks.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "runs as airbyte",
        "uid is 1000",
        "airbyte's home is /home/airbyte",
        "airbyte can write the temp directory",
        "Python imports its packages as airbyte",
        "HOME is /home/airbyte",
        "poetry is 2.2.1",
      ]),
    );
    expect(names).not.toContain("HOME is /root");
  });

  it("checks timezone, python, pip, bash, the seed's env vars and labels", () => {
    const names = catalog.get("1.0.0").sanityChecks.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "timezone is UTC",
        "python is 3.9.18",
        "pip is 23.2.1",
        "bash is available",
        "LANG is C.UTF-8",
        "GPG_KEY is E3FF2839C048B25C084DEBE9B26995E310250568",
        "PYTHON_GET_PIP_SHA256 is set",
        "title label",
      ]),
    );
  });

  it("matches the committed JSON Schema generated from zod", () => {
    const committed = JSON.parse(readFileSync(new URL("../catalog/schema.json", import.meta.url), "utf8"));
    expect(committed).toEqual(catalogJsonSchema());
  });
});

describe("catalog validation", () => {
  it("collects every problem at once, with paths", () => {
    const result = validateCatalog(
      catalogWith([
        { version: "1.0" },
        { version: "1.1.0", rootImages: { "linux/amd64": "python:3.9-slim" } },
        { version: "1.2.0", rootImages: { "linux/386": ROOT } },
        { version: "1.3.0", changelog: "" },
      ]),
    );
    expect(result.value).toBeUndefined();
    const text = result.errors.join("\n");
    expect(text).toMatch(/versions\[0\]\.version: must be a semantic version/);
    expect(text).toMatch(/versions\[1\]\.rootImages\.linux\/amd64: .*tag-only reference/);
    expect(text).toMatch(/versions\[2\]\.rootImages: platforms must be among linux\/amd64, linux\/arm64/);
    expect(text).toMatch(/versions\[3\]\.changelog: a changelog entry is required/);
  });

  it("refuses duplicate versions and warns on versions without checks", () => {
    expect(validateCatalog(catalogWith([{ version: "1.0.0" }, { version: "1.0.0" }])).errors).toEqual([
      "catalog.versions[1].version: duplicate version 1.0.0",
    ]);
    expect(validateCatalog(catalogWith([{ version: "1.0.0", sanityChecks: [] }])).warnings).toEqual([
      "catalog.versions[0]: version 1.0.0 has no sanity checks",
    ]);
  });

  it("throws one INVALID_CATALOG error listing the problems", () => {
    expect(() => parseCatalog({ name: "x" })).toThrowError(/invalid base image catalog:\n {2}catalog\.repository/);
  });
});

describe("lookups", () => {
  const catalog = parseCatalog(
    catalogWith([
      { version: "1.0.0", published: { digest: D("1") } },
      { version: "1.1.0", published: { digest: D("2") } },
      { version: "1.2.0-rc.1" },
      { version: "2.0.0-rc.1" },
    ]),
  );

  it("finds by version, latest, latest stable and range", () => {
    expect(catalog.get("1.1.0").version).toBe("1.1.0");
    expect(() => catalog.get("9.9.9")).toThrowError(/'9\.9\.9' is not in the test catalog: expected one of 2\.0\.0-rc\.1, 1\.2\.0-rc\.1, 1\.1\.0, 1\.0\.0/);
    expect(catalog.latest()?.version).toBe("2.0.0-rc.1");
    expect(catalog.latestStable()?.version).toBe("1.1.0");
    expect(catalog.maxSatisfying("^1.0.0")?.version).toBe("1.1.0");
    expect(catalog.maxSatisfying("^1.0.0", { includePrerelease: true })?.version).toBe("1.2.0-rc.1");
    expect(catalog.maxSatisfying("~1.0")?.version).toBe("1.0.0");
    expect(() => catalog.maxSatisfying("not a range")).toThrowError(/is not a semver range/);
  });

  it("resolves full published addresses and refuses everything else", () => {
    expect(catalog.resolveAddress(`docker.io/airbyte/python-connector-base:1.1.0@${D("2")}`).version).toBe("1.1.0");
    expect(catalog.resolveAddress(`airbyte/python-connector-base:1.0.0@${D("1")}`).version).toBe("1.0.0");
    expect(() => catalog.resolveAddress("airbyte/python-connector-base:1.1.0")).toThrowError(/tag-only/);
    expect(() => catalog.resolveAddress(`airbyte/python-connector-base:1.1.0@${D("3")}`)).toThrowError(
      /version 1\.1\.0 was published as sha256:2{64}/,
    );
    expect(() => catalog.resolveAddress(`airbyte/python-connector-base:1.2.0-rc.1@${D("3")}`)).toThrowError(/not published yet/);
    expect(() => catalog.resolveAddress(`docker.io/library/python:3.9@${D("1")}`)).toThrowError(/not from this catalog's repository/);
    expect(() => catalog.resolveAddress(`airbyte/python-connector-base:3.0.0@${D("9")}`)).toThrowError(/not a published version/);
  });

  it("adds versions without mutating, refusing duplicates", () => {
    const next = catalog.withVersion({ ...catalog.get("1.0.0").data, version: "1.3.0", published: undefined });
    expect(next.find("1.3.0")).toBeDefined();
    expect(catalog.find("1.3.0")).toBeUndefined();
    expect(() => catalog.withVersion(catalog.get("1.0.0").data)).toThrowError(/already in the test catalog/);
  });
});

describe("fixture catalog", () => {
  it("is the production recipe on the fixture root image", () => {
    const fixture = parseCatalog(
      fixtureCatalog({
        roots: [
          { platform: "linux/amd64", address: `127.0.0.1:5000/python:3.11-bookworm@${D("f")}`, pythonVersion: "3.11.2", pipVersion: "23.0.1", setuptoolsVersion: "66.1.1" },
        ],
      }),
    );
    const v = fixture.get("1.0.0");
    expect(v.platforms).toEqual(["linux/amd64"]);
    const prodOps = loadProductionCatalog().get("1.0.0").recipe.operations.map((o) => o.op);
    expect(v.recipe.operations.map((o) => o.op)).toEqual(prodOps);
    expect(v.sanityChecks.find((c) => c.name === "python is 3.11.2")).toBeDefined();
    const v110 = fixture.get("1.1.0");
    const prod110 = loadProductionCatalog().get("1.1.0");
    expect(v110.recipe.operations.map((o) => o.op)).toEqual(prod110.recipe.operations.map((o) => o.op));
    expect(v110.sanityChecks.map((c) => c.name)).toEqual(expect.arrayContaining(["pip is 23.0.1", "poetry is 2.2.1"]));
    expect(v110.changelog).toMatch(/^Local fixture of 1\.1\.0 .*Poetry 2\.2\.1/);
    expect(fixture.repository).toBe("127.0.0.1:5000/airbyte/python-connector-base");
    const v200 = fixture.get("2.0.0");
    expect(v200.recipe.operations.map((o) => o.op)).toEqual(loadProductionCatalog().get("2.0.0").recipe.operations.map((o) => o.op));
    expect(v200.sanityChecks.map((c) => c.name)).toEqual(expect.arrayContaining(["uid is 1000", "GPG_KEY is A035C8C19219BA821ECEA86B64E628F8D684696D"]));
  });

  it("has a Python 3.9 line (bullseye) with the same versions in its own repository", () => {
    const fixture = parseCatalog(
      fixtureCatalog({
        roots: [{ platform: "linux/amd64", address: `127.0.0.1:5000/python:3.9-bullseye@${D("e")}`, pythonVersion: "3.9.2", pipVersion: "20.3.4", setuptoolsVersion: "52.0.0" }],
      }),
    );
    expect(fixture.repository).toBe("127.0.0.1:5000/airbyte/python-connector-base-py39");
    expect(fixture.name).toBe("python-connector-base (local fixture, Python 3.9)");
    expect(fixture.versions.map((v) => v.version)).toEqual(["2.0.0", "1.1.0", "1.0.0"]);
    const names = fixture.get("1.1.0").sanityChecks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["python is 3.9.2", "GPG_KEY is E3FF2839C048B25C084DEBE9B26995E310250568", "pip is 20.3.4"]));
    expect(fixture.get("1.1.0").changelog).toMatch(/Python 3\.9\.2 on Debian bullseye/);
    expect(() => fixtureCatalog({ roots: [{ platform: "linux/amd64", address: `127.0.0.1:5000/python:3.12@${D("e")}`, pythonVersion: "3.12.1", pipVersion: "24", setuptoolsVersion: "1" }] })).toThrowError(
      /Python 3\.12\.1: expected a Python line the fixture has \(3\.11, 3\.9\)/,
    );
  });
});

describe("evaluateSanityCheck", () => {
  it("passes and fails on what was seen", () => {
    const check = { kind: "command" as const, name: "py", argv: ["python", "--version"], expect: { stdout: "Python 3.9.18" } };
    expect(evaluateSanityCheck(check, { exitCode: 0, stdout: "Python 3.9.18\n" }).passed).toBe(true);
    expect(evaluateSanityCheck(check, { exitCode: 0, stdout: "Python 3.11.2\n" })).toEqual({
      passed: false,
      seen: "exit code 0, stdout 'Python 3.11.2'",
    });
    const env = { kind: "env" as const, name: "lang", variable: "LANG", value: "C.UTF-8" };
    expect(evaluateSanityCheck(env, { exitCode: 1, stdout: "" })).toEqual({ passed: false, seen: "LANG not set" });
    const label = { kind: "label" as const, name: "l", label: "a", value: "b" };
    expect(evaluateSanityCheck(label, { labelValue: undefined }).passed).toBe(false);
    expect(evaluateSanityCheck(label, { labelValue: "b" }).passed).toBe(true);
  });
});
