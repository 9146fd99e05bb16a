// One exit-code convention for signals (130 SIGINT, 143 SIGTERM) across commands, and every command
// that holds something outside the process (export folders, build folders, containers, clients)
// releases it when interrupted.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { fixtureRoot, LOCAL_CATALOG, spawnCli, stageExample, testCatalog, uniqueTag } from "./helpers.ts";
import { buildFromPublishedBase, derivedVersion, stageConnector, supplyCatalog, uniqueName } from "./helpers/supply-chain.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { publishBaseImage } from "../src/base-image/release.ts";

/** Starts the CLI, waits until `ready(stderr, tmp)` holds, sends `signal`; resolves with the exit code and stderr. */
async function interrupt(args: string[], signal: NodeJS.Signals, ready: (stderr: string, pid: number) => boolean, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; pid: number }> {
  const child = spawnCli(args, { env });
  child.stdin.end();
  let stderr = "";
  child.stderr.on("data", (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (ready(stderr, child.pid as number)) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
    void exited.then(() => {
      clearInterval(poll);
      reject(new Error(`ended before it could be interrupted:\n${stderr}`));
    });
  });
  child.kill(signal);
  return { code: await exited, stderr, pid: child.pid as number };
}

/** Processes whose command line mentions `text` (a build client left behind names its work folder). */
const processesMentioning = (text: string) =>
  execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(text) && !line.startsWith("ps "));

describe("SIGTERM exits 143, SIGINT 130, in every command", () => {
  it("base release on SIGTERM: 143 (as build), the catalog unchanged", async () => {
    const catalog = testCatalog(`127.0.0.1:5000/harden-sigterm/python-connector-base`);
    const before = catalog.bytes();
    const { code, stderr } = await interrupt(["base", "release", "--catalog", catalog.path, "--bump", "minor", "--changelog", "terminated"], "SIGTERM", (s) =>
      /building 1\.1\.0 for linux\/amd64/.test(s),
    );
    expect(code).toBe(143);
    expect(stderr).toMatch(/terminated \(SIGTERM\): nothing was recorded in the catalog/);
    expect(catalog.bytes()).toBe(before);
    expect(await new RegistryClient().tagExists(catalog.repository, "1.1.0")).toBe(false);
  }, 300_000);
});

describe("interrupting an export or a verification leaves nothing behind", () => {
  it("SIGINT during an oci: export: exit 130, no airbyte-ci-oci-* folder in TMPDIR, no partial tarball", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    const tmp = mkdtempSync(join(tmpdir(), "export-tmp-"));
    const out = mkdtempSync(join(tmpdir(), "export-out-"));
    const exports = () => readdirSync(tmp).filter((n) => n.startsWith("airbyte-ci-oci-"));
    const { code, stderr } = await interrupt(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", `oci:${join(out, "image.tar")}`, "--no-sbom"], "SIGINT", () => exports().length > 0, { TMPDIR: tmp });
    expect(code, stderr).toBe(130);
    expect(exports()).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
  }, 300_000);

  it("SIGINT while migrate verifies (the Dockerfile build running): exit 130, no build folder, client or container left, nothing written", async () => {
    const dir = await stageExample("source-zendesk-chat", { tag: `0.1.${Date.now() % 1_000_000_000}` });
    rmSync(join(dir, "build_customization.ts"));
    // The install step the plan accepts runs setup.py, which here takes its time (uncached: unique).
    const setup = join(dir, "setup.py");
    writeFileSync(setup, `import time  # ${uniqueTag()}\ntime.sleep(600)\n${readFileSync(setup, "utf8")}`);
    const dockerfile = [
      `FROM ${fixtureRoot("amd64").address}`,
      "WORKDIR /airbyte/integration_code",
      "COPY setup.py ./",
      "RUN pip install --no-build-isolation .",
      "COPY source_zendesk_chat ./source_zendesk_chat",
      "COPY main_dev.py ./",
      'ENTRYPOINT ["python", "/airbyte/integration_code/main_dev.py"]',
      "",
    ].join("\n");
    writeFileSync(join(dir, "Dockerfile"), dockerfile);
    const tmp = mkdtempSync(join(tmpdir(), "migrate-tmp-"));
    const { code, stderr } = await interrupt(["migrate", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker"], "SIGINT", (s) => /building the Dockerfile \(before\)/.test(s) && processesMentioning(tmp).length > 0, { TMPDIR: tmp });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): the migration stopped/);
    // (tsx, which runs the CLI from source here, keeps its own cache folder in TMPDIR.)
    expect(readdirSync(tmp).filter((n) => n !== "tsx-0" && !n.startsWith("tsx-"))).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);
  }, 300_000);
});

/** Containers a CLI process started (the Docker engine labels them with its pid), with their command. */
const containersOf = (pid: number) =>
  execFileSync("/usr/bin/docker", ["ps", "-a", "--no-trunc", "--filter", `label=io.airbyte-ci.pid=${pid}`, "--format", "{{.Command}}"], { encoding: "utf8" }).trim();

describe("interrupting rebase's verification", () => {
  it("SIGINT while the rebased image's spec hangs: exit 130, its container removed, no docker run client left", async () => {
    const engine = new DockerEngine();
    const root = `127.0.0.1:5000/harden-rebase/${uniqueName("r")}`;
    // 1.0.1 adds a release file, as test/rebase.test.ts's 1.0.1 does (same layers, cached).
    const catalog = await supplyCatalog(`${root}/base`, (data) => {
      data.versions.push(derivedVersion(data, "1.0.1", { recipe: [{ op: "withExec", args: ["sh", "-c", "echo 1.0.1 > /etc/python-connector-base-release"] }, { op: "withEnvVariable", name: "PYTHONDONTWRITEBYTECODE", value: "1" }] }));
      for (const v of data.versions) v.rootImages = { "linux/amd64": v.rootImages["linux/amd64"] as string };
    });
    await publishBaseImage({ catalogPath: catalog.path, engine, version: "1.0.1" });
    const dir = stageConnector("source-hello", catalog.load().get("1.0.0").publishedAddress as string, "0.1.0");
    // spec answers on base 1.0.0 and hangs once the image is on 1.0.1 (whose release file it sees).
    writeFileSync(
      join(dir, "build_customization.ts"),
      `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({\n  postConnectorInstall: (recipe) => recipe.withEntrypoint(["sh", "-c", "if [ -f /etc/python-connector-base-release ]; then sleep 600; fi; exec python /airbyte/integration_code/main.py \\"$@\\"", "entry"]),\n});\n`,
    );
    const reference = `${root}/airbyte/source-hello:0.1.0`;
    await buildFromPublishedBase(engine, dir, catalog.load(), ["linux/amd64"], reference);
    const { code, stderr, pid } = await interrupt(["rebase", reference, "--to", "1.0.1", "--catalog", catalog.path, "--engine", "docker", "--no-sbom"], "SIGINT", (_s, child) =>
      containersOf(child).includes("spec"),
    );
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): the rebase stopped; temporary files and containers removed/);
    expect(containersOf(pid)).toBe("");
    expect(processesMentioning(`io.airbyte-ci.pid=${pid}`)).toEqual([]);
  }, 600_000);
});
