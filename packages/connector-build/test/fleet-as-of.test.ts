// Issue #22, end to end: `migrate --all --as-of 2023-09-09` on a fleet of 2023-shaped connectors
// (test/__fixtures__/fleet-2023: an unpinned `airbyte-cdk` in setup.py with a requirements.txt of
// `-e .`, a low-code manifest.yaml connector, an alpine multi-stage one whose entrypoint is
// main_dev.py, a pin whose dependency was yanked, a Dockerfile the common build cannot express).
// Each connector is migrated, locked as PyPI had its dependencies on that date (uv, through PyPI's
// own JSON simple API, which records upload times), built before (its Dockerfile) and after (the
// common build) with the lock's pins, both answer spec, and the report has one line each.
// Real parts: PyPI, uv, Docker, the local registry's base, the devpi proxy for the builds' pip.
// Docker Hub is not reachable here: the "before" builds start from the local fixture root
// (Debian, Python 3.11) instead of python:3.9-slim (--before-from), so the low-code connector,
// whose CDK 0.51 declarative dataclasses do not import on Python 3.11, answers spec in neither.
import { cpSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import type { ConnectorMigration } from "../src/migrate/migrate-all.ts";
import { connectorLockSchema, type ConnectorLock } from "../src/connector/lock-file.ts";
import { runProcess } from "../src/shared/process.ts";
import { fixtureRoot, localCatalog, pipIndexUrl, runCli, testCatalog } from "./helpers.ts";

const FLEET = join(import.meta.dirname, "__fixtures__/fleet-2023");
const AS_OF = "2023-09-09";
const root = mkdtempSync(join(tmpdir(), "migrate-as-of-"));
// The local catalog's first version only: published, Python 3.11 (a catalog copy, so a later unpublished version does not stop the migration).
const catalog = testCatalog(localCatalog().repository).path;
const engine = new DockerEngine();
let run: { connectors: ConnectorMigration[]; summary: Record<string, number> };
let exitCode: number;
let stderr: string;
const byName = (name: string) => run.connectors.find((c) => c.connector === name) as ConnectorMigration;
const lockOf = (name: string): ConnectorLock => connectorLockSchema.parse(JSON.parse(readFileSync(join(root, name, "connector-build.lock"), "utf8")));
const pin = (lock: ConnectorLock, platform: string, name: string) => lock.platforms[platform]?.artifacts.find((a) => a.name === name);

beforeAll(async () => {
  cpSync(FLEET, root, { recursive: true });
  const address = fixtureRoot("amd64").address;
  const cli = await runCli([
    "migrate", "--all", root, "--catalog", catalog, "--json", "--as-of", AS_OF,
    "--before-from", `python:3.9-slim=${address}`, "--before-from", `python:3.9.11-alpine3.15=${address}`,
    "--pip-index-url", pipIndexUrl(),
  ]);
  exitCode = cli.exitCode;
  stderr = cli.stderr;
  if (!cli.stdout.startsWith("{")) throw new Error(`migrate --all printed no JSON:\n${cli.stderr}`);
  run = JSON.parse(cli.stdout);
  for (const c of run.connectors) process.stderr.write(`fleet-2023: ${c.connector} | ${c.outcome} | ${c.verification?.status ?? "-"} | ${c.reasons.join("; ").split("\n")[0]}\n`);
}, 2_400_000);

describe(`migrate --all --as-of ${AS_OF} on a 2023 fleet`, () => {
  it("reports one outcome per connector and the totals", () => {
    expect(exitCode, stderr).toBe(1);
    expect(run.connectors.map((c) => [c.connector, c.outcome]).sort()).toEqual([
      ["source-asof-alpine", "kept"],
      ["source-asof-lowcode", "kept"],
      ["source-asof-python", "migrated"],
      ["source-asof-refused", "refused"],
      ["source-asof-yanked", "failed"],
    ]);
    expect(run.summary).toMatchObject({ migrated: 1, kept: 2, failed: 1, refused: 1 });
  });

  it("locks an unpinned airbyte-cdk as PyPI had it on the date, per platform, with hashes", () => {
    const lock = lockOf("source-asof-python");
    expect(lock.resolution).toMatchObject({ asOf: AS_OF, excludeNewer: "2023-09-10T00:00:00Z", source: "date", input: "requirements.txt", indexUrl: "https://pypi.org/simple", yanked: [] });
    expect(Object.keys(lock.platforms).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      expect(pin(lock, platform, "airbyte-cdk")?.version).toMatch(/^0\.51\./);
      expect(pin(lock, platform, "pydantic")?.version).toMatch(/^1\.10\./);
      for (const a of lock.platforms[platform]?.artifacts ?? []) expect(a.url).toMatch(new RegExp(`^https://.*/${a.filename.replace(/[.+]/g, "\\$&")}$`));
    }
    // A compiled wheel per platform: pydantic 1.10 has cp311 x86_64 wheels.
    expect(pin(lock, "linux/amd64", "pydantic")?.filename).toMatch(/cp311-cp311-manylinux.*x86_64\.whl$/);
    expect(byName("source-asof-python").lock?.pins["linux/amd64"]).toContain(`airbyte-cdk==${pin(lock, "linux/amd64", "airbyte-cdk")?.version}`);
  });

  it("verifies with the same pins before and after: only expected differences, both answer spec", async () => {
    const c = byName("source-asof-python");
    expect(c.verification?.status, JSON.stringify(c.verification)).toBe("verified");
    expect(existsSync(join(root, c.dir, "Dockerfile"))).toBe(false);
    const cdk = pin(lockOf("source-asof-python"), "linux/amd64", "airbyte-cdk")?.version;
    for (const ref of [c.verification?.before, c.verification?.after]) {
      const image = { engine: "docker" as const, platform: "linux/amd64" as const, ref: ref as string };
      const spec = await engine.run(image, ["spec"], { useEntrypoint: true });
      expect(spec.stdout, spec.stderr).toMatch(/"type": ?"SPEC"/);
      expect(spec.stdout).toContain("Asof Python Spec");
      const installed = await engine.run(image, ["python", "-c", "import importlib.metadata as m; print(m.version('airbyte-cdk'))"]);
      expect(installed.stdout.trim()).toBe(cdk);
    }
  }, 300_000);

  it("keeps the low-code connector, whose CDK 0.51 does not run on the base's Python 3.11, with the reason", () => {
    const c = byName("source-asof-lowcode");
    // Its image answers spec in neither build (`ValueError: mutable default … use default_factory`):
    // the common build (pendulum 2.1.2's sdist built with its poetry-core backend, in isolation)
    // fails at its spec verification with that error, or both images fail spec: kept either way, said why.
    expect(c.reasons.join("\n")).toMatch(/spec: neither image answers spec .*mutable default|the common build fails: .*(mutable default|dataclasses\.py)/s);
    expect(existsSync(join(root, c.dir, "Dockerfile"))).toBe(true);
    expect(existsSync(join(root, c.dir, "connector-build.lock"))).toBe(false);
  });

  it("keeps the alpine multi-stage main_dev.py shape, whose before build cannot run on Debian (unverified: nothing written); --no-verify migrates and locks it", async () => {
    const c = byName("source-asof-alpine");
    expect(c.verification?.status).toBe("unverified");
    expect(c.reasons[0]).toMatch(/^not verified, so not written: /);
    expect(existsSync(join(root, c.dir, "Dockerfile"))).toBe(true);
    expect(existsSync(join(root, c.dir, "connector-build.lock"))).toBe(false);
    const cli = await runCli(["migrate", join(root, c.dir), "--catalog", catalog, "--no-verify", "--as-of", AS_OF, "--json"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(readFileSync(join(root, c.dir, "build_customization.ts"), "utf8")).toContain("main_dev.py");
    expect(pin(lockOf("source-asof-alpine"), "linux/amd64", "airbyte-cdk")?.version).toMatch(/^0\.51\./);
  }, 300_000);

  it("fails a connector whose pin needs a yanked version, naming the package, the version and why; writes nothing", () => {
    const c = byName("source-asof-yanked");
    expect(c.reasons[0]).toMatch(/^airbyte-protocol-models 1\.0\.0: yanked \(1\.0\.0 was erroneously released.*\); airbyte-cdk==0\.33\.0 pins it exactly: --allow-yanked accepts it$/);
    expect(existsSync(join(root, c.dir, "Dockerfile"))).toBe(true);
    expect(existsSync(join(root, c.dir, "connector-build.lock"))).toBe(false);
  });

  it("refuses what the common build cannot express, line by line", () => {
    expect(byName("source-asof-refused").reasons).toEqual([expect.stringMatching(/^line 3 .*libpq-dev/), expect.stringMatching(/^line 10 'USER airbyte'/)]);
  });

  it("--allow-yanked accepts the yanked pin the inputs name exactly, and the lock records it", async () => {
    const cli = await runCli(["migrate", join(root, "source-asof-yanked"), "--catalog", catalog, "--no-verify", "--as-of", AS_OF, "--allow-yanked", "--json"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    const lock = lockOf("source-asof-yanked");
    expect(lock.resolution?.yanked).toEqual(["airbyte-protocol-models==1.0.0"]);
    expect(pin(lock, "linux/amd64", "airbyte-protocol-models")?.version).toBe("1.0.0");
    expect(pin(lock, "linux/amd64", "airbyte-cdk")?.version).toBe("0.33.0");
  }, 300_000);
});

describe("lock --as-of", () => {
  it("refuses an index without upload times by name, before any work (the loopback devpi proxy)", async () => {
    const cli = await runCli(["lock", join(root, "source-asof-python"), "--catalog", catalog, "--as-of", AS_OF, "--index-url", pipIndexUrl()]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain(`the index ${pipIndexUrl()} gives no upload times`);
  });

  it("--as-of git: the date of the connector's last commit, for the Python asked (3.9)", async () => {
    const repo = mkdtempSync(join(tmpdir(), "as-of-git-"));
    cpSync(join(FLEET, "source-asof-python"), join(repo, "source-asof-python"), { recursive: true });
    const stamp = "2023-09-09T12:00:00+00:00";
    const env = { ...process.env, GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
    for (const args of [["init", "-q"], ["add", "."], ["commit", "-qm", "2023"]]) expect((await runProcess("git", ["-C", repo, ...args], { env })).exitCode).toBe(0);
    // A copy migrated, the way a tree is: lock needs metadata's baseImage.
    const migrated = await runCli(["migrate", join(repo, "source-asof-python"), "--catalog", catalog, "--no-verify"]);
    expect(migrated.exitCode, migrated.stderr).toBe(0);
    const cli = await runCli(["lock", join(repo, "source-asof-python"), "--catalog", catalog, "--as-of", "git", "--python-version", "3.9", "--platform", "linux/amd64", "--json"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    const [result] = JSON.parse(cli.stdout) as Array<{ lock: ConnectorLock }>;
    expect(result?.lock.resolution).toMatchObject({ source: "git", asOf: "2023-09-09T12:00:00+00:00", excludeNewer: "2023-09-09T12:00:00Z" });
    expect(result?.lock.platforms["linux/amd64"]?.pythonVersion).toBe("3.9");
    expect(pin(result?.lock as ConnectorLock, "linux/amd64", "pydantic")?.filename).toMatch(/cp39-cp39-manylinux.*x86_64\.whl$/);
  }, 300_000);
});
