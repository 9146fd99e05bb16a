// Migration edge cases, one test each (no engine needed): the dry-run patch, builder stages, an
// unpublished latest base, .dockerignore, requirements.txt with only -e ., a Dockerfile still present.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCatalog, type CatalogData } from "@airbyte-ci/base-images";
import { filePatch } from "../shared/text-diff.ts";
import { planDockerfile } from "./plan-dockerfile.ts";
import { migrateConnector } from "./migrate.ts";
import { migrateRepository } from "./migrate-all.ts";
import { dockerignoreRuleHiding, parseDockerignore } from "../dockerfile/dockerignore.ts";
import { requirementsOnlyNameTheConnector } from "../connector/requirements-file.ts";
import { prepareConnector, pythonConnectorRecipe } from "../connector/python-build.ts";
import { localCatalog, runCli } from "../../test/helpers.ts";

const FLEET = join(import.meta.dirname, "../../test/__fixtures__/fleet");
const D = `sha256:${"c".repeat(64)}`;
const ROOT = `127.0.0.1:5000/python:3.11-bookworm@${D}`;
const catalogData = (published: boolean): CatalogData => ({
  name: published ? "test" : "unpublished",
  repository: "127.0.0.1:5000/airbyte/python-connector-base",
  versions: [{ version: "1.0.0", changelog: "a", rootImages: { "linux/amd64": ROOT }, recipe: [], sanityChecks: [], ...(published ? { published: { digest: D } } : {}) }],
});
const published = parseCatalog(catalogData(true));
const unpublished = parseCatalog(catalogData(false));

function copyFleet(): string {
  const root = mkdtempSync(join(tmpdir(), "fleet-"));
  cpSync(FLEET, root, { recursive: true });
  return root;
}

function patchAccepted(root: string, patch: string): void {
  const file = join(mkdtempSync(join(tmpdir(), "patch-")), "p.diff");
  writeFileSync(file, patch);
  execFileSync("git", ["apply", "--check", file]);
  const gnu = spawnSync("patch", ["-p1", "--dry-run", "-i", file], { cwd: root, encoding: "utf8" });
  expect(gnu.stderr).toBe("");
  expect(gnu.status).toBe(0);
}

describe("the dry-run diff is a valid patch", () => {
  it("edits, new files, deleted files, missing final newlines: git apply and patch accept it", () => {
    const root = mkdtempSync(join(tmpdir(), "patch-root-"));
    mkdirSync(join(root, "c"));
    writeFileSync(join(root, "c/a.txt"), "one\ntwo\nthree\n");
    writeFileSync(join(root, "c/gone.txt"), "x\ny");
    writeFileSync(join(root, "c/nonl.txt"), "p\nq");
    const patch = [
      filePatch({ path: "c/a.txt", before: "one\ntwo\nthree\n", after: "one\n2\nthree\nfour\n" }),
      filePatch({ path: "c/new.txt", before: undefined, after: "hello\nworld\n" }),
      filePatch({ path: "c/gone.txt", before: "x\ny", after: undefined }),
      filePatch({ path: "c/nonl.txt", before: "p\nq", after: "p\nq\n" }),
    ].join("");
    expect(patch).toContain("--- /dev/null\n+++ b/c/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n");
    expect(patch).toContain("deleted file mode 100644\n--- a/c/gone.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n\\ No newline at end of file\n");
    patchAccepted(root, patch);
    execFileSync("git", ["apply", "-"], { cwd: root, input: patch });
    expect(readFileSync(join(root, "c/a.txt"), "utf8")).toBe("one\n2\nthree\nfour\n");
    expect(readFileSync(join(root, "c/new.txt"), "utf8")).toBe("hello\nworld\n");
    expect(readFileSync(join(root, "c/nonl.txt"), "utf8")).toBe("p\nq\n");
    expect(existsSync(join(root, "c/gone.txt"))).toBe(false);
  });

  it("migrate --all --dry-run prints one patch for the whole tree, with relative a/ b/ paths, that git apply applies", async () => {
    const root = copyFleet();
    const run = await migrateRepository(root, { catalog: published, dryRun: true });
    expect(run.patch).not.toMatch(/a\/\//);
    expect(run.patch).toContain("diff --git a/source-fleet-instagram/Dockerfile b/source-fleet-instagram/Dockerfile\ndeleted file mode 100644");
    expect(run.patch).toContain("--- /dev/null\n+++ b/source-fleet-zendesk-chat/build_customization.ts");
    patchAccepted(root, run.patch);
    execFileSync("git", ["apply", "-"], { cwd: root, input: run.patch });
    expect(existsSync(join(root, "source-fleet-instagram/Dockerfile"))).toBe(false);
    expect(existsSync(join(root, "source-fleet-postgres-ish/Dockerfile"))).toBe(true);
  });
});

describe("builder stages, apt and upgrades", () => {
  const dockerfile = (stage: string) => `FROM python:3.9-slim as builder\n${stage}\nCOPY setup.py ./\nRUN pip install --prefix=/install .\nFROM python:3.9-slim\nWORKDIR /airbyte/integration_code\nCOPY --from=builder /install /usr/local\nCOPY main.py ./\nCOPY source_x ./source_x\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\n`;
  it("a builder stage's upgrade never reaches the final image: not a refusal", () => {
    const plan = planDockerfile(dockerfile("RUN apt update -y && apt upgrade -y"), "source-x");
    expect(plan.refusals).toEqual([]);
    expect(plan.covered.find((c) => c.line === 2)?.why).toMatch(/builder stage/);
  });
  it("apt is apt-get; apt-get upgrade and apk upgrade are judged alike in the final image", () => {
    const finalRun = (run: string) => planDockerfile(`FROM python:3.9-slim\n${run}\nWORKDIR /airbyte/integration_code\nCOPY setup.py ./\nRUN pip install .\nCOPY main.py ./\n`, "source-x");
    for (const run of ["RUN apt update -y && apt upgrade -y", "RUN apt-get update && apt-get upgrade -y", "RUN apk --no-cache upgrade", "RUN apt install -y bash", "RUN apt-get install -y bash"]) {
      const plan = finalRun(run);
      expect(plan.refusals, run).toEqual([]);
    }
    expect(finalRun("RUN apt-get upgrade -y").expectedChanges).toEqual(finalRun("RUN apk upgrade").expectedChanges);
    expect(finalRun("RUN apt install -y libpq-dev").refusals[0]).toMatch(/line 2 'RUN apt install -y libpq-dev'.*installs libpq-dev/);
  });
  it("a copy from a builder of anything but /install is refused at its line", () => {
    const plan = planDockerfile(dockerfile("RUN make").replace("COPY main.py ./", "COPY --from=builder /opt/tool /usr/bin/tool\nCOPY main.py ./"), "source-x");
    // The builder's `RUN make` is refused too: what it makes could reach the image through a copy.
    expect(plan.refusals).toEqual([
      expect.stringMatching(/^line \d+ 'RUN make': stage 'builder' runs 'make'/),
      expect.stringMatching(/^line 8 'COPY --from=builder \/opt\/tool \/usr\/bin\/tool': copies \/opt\/tool from stage builder/),
    ]);
  });
});

describe("migrate --dry-run with a catalog whose latest version is not published (the production catalog)", () => {
  it("plans against the latest version and says so; a real migration refuses and mentions --catalog", async () => {
    const root = copyFleet();
    const dir = join(root, "source-fleet-instagram");
    const dry = await migrateConnector(dir, unpublished, { dryRun: true, patchRoot: root });
    expect(dry.baseImagePublished).toBe(false);
    expect(dry.diff).toContain("+    baseImage: 127.0.0.1:5000/airbyte/python-connector-base:1.0.0\n");
    await expect(migrateConnector(dir, unpublished)).rejects.toThrowError(/latest version 1\.0\.0 is not published.*--catalog/);
    const cli = await runCli(["migrate", dir, "--catalog", "production", "--dry-run"]);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toMatch(/^diff --git a\/source-fleet-instagram\/metadata\.yaml/);
    expect(cli.stderr).toMatch(/not published/);
    const real = await runCli(["migrate", dir, "--catalog", "production"]);
    expect(real.exitCode).toBe(2);
    expect(real.stderr).toMatch(/--catalog/);
  }, 60_000);
});

describe(".dockerignore rules", () => {
  it("finds the rule that hides a path, as Docker decides (last match wins, parents count)", () => {
    const rules = parseDockerignore("# whitelist\n*\n!main.py\n!source_x\n!setup.py\nsource_x/**/__pycache__\n");
    expect(dockerignoreRuleHiding(rules, "requirements.txt")).toMatchObject({ line: 2, text: "*" });
    expect(dockerignoreRuleHiding(rules, "main.py")).toBeUndefined();
    expect(dockerignoreRuleHiding(rules, "source_x/source.py")).toBeUndefined();
    expect(dockerignoreRuleHiding(rules, "source_x/a/__pycache__/m.pyc")).toMatchObject({ line: 6 });
  });
});

describe("requirements.txt holding only -e .", () => {
  it("is recognised, and the common build installs the connector once, from setup.py", async () => {
    expect(requirementsOnlyNameTheConnector("# dev\n-e .\n")).toBe(true);
    expect(requirementsOnlyNameTheConnector("-e .\nrequests==2.31.0\n")).toBe(false);
    const root = copyFleet();
    const dir = join(root, "source-fleet-twilio");
    writeFileSync(join(dir, "metadata.yaml"), readFileSync(join(dir, "metadata.yaml"), "utf8").replace("  name: Fleet", `  connectorBuildOptions:\n    baseImage: 127.0.0.1:5000/airbyte/python-connector-base:1.0.0@${D}\n  name: Fleet`));
    // The published base as its registry would hold it: this test reads no registry.
    const publishedBase = { version: "1.0.0", name: "127.0.0.1:5000/airbyte/python-connector-base:1.0.0", address: `127.0.0.1:5000/airbyte/python-connector-base:1.0.0@${D}`, digest: D, platformDigests: { "linux/amd64": D } };
    const recipe = await pythonConnectorRecipe({ ...(await prepareConnector(dir, published)), publishedBase }, "linux/amd64");
    const execs = recipe.operations.flatMap((op) => (op.op === "withExec" ? [op.args.join(" ")] : []));
    // Its dependencies come in the dependency layer (from setup.py's install_requires); the connector itself once, from setup.py.
    expect(execs.filter((e) => /pip install .* \.$/.test(e))).toEqual([expect.stringMatching(/pip install .* \.$/)]);
    expect(execs.filter((e) => e.includes("pip install") && !e.includes("-r /airbyte/dependencies.txt") && !/ \.$/.test(e))).toEqual([]);
    expect(recipe.operations.some((op) => op.op === "withFile" && op.source === "requirements.txt")).toBe(false);
  });
});

describe("bump-base and build on a connector that still has its Dockerfile", () => {
  it("bump-base refuses and points at migrate; --force sets baseImage anyway", async () => {
    const root = copyFleet();
    const dir = join(root, "source-fleet-instagram");
    const refused = await runCli(["bump-base", dir, "--catalog", "local"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/Dockerfile exists.*connector-build migrate .*--force/);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).not.toContain("baseImage");
    const forced = await runCli(["bump-base", dir, "--catalog", "local", "--force"]);
    expect(forced.exitCode).toBe(0);
    // The local catalog's latest version (1.1.0, with Poetry), as published by scripts/bootstrap.sh.
    const latest = localCatalog().latestStable()?.publishedAddress;
    expect(latest).toMatch(/^127\.0\.0\.1:5000\/airbyte\/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).toContain(`baseImage: ${latest}\n`);
  }, 60_000);
  it("build's missing-baseImage error points at migrate when a Dockerfile is there", async () => {
    const root = copyFleet();
    await expect(prepareConnector(join(root, "source-fleet-instagram"), published)).rejects.toThrowError(/baseImage is missing.*still has a Dockerfile: connector-build migrate/);
    await expect(prepareConnector(join(root, "source-fleet-poetry"), published)).rejects.toThrowError(/still has a Dockerfile/);
  });
});
