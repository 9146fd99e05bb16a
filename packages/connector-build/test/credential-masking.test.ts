// Every credential the CLI is given is masked in what it prints, and none outlives the process on
// disk: package index passwords (build, lock), registry passwords in the push's DOCKER_CONFIG.
import { readdirSync, readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_CATALOG, pipIndexUrl, runCli, spawnCli, stageExample, uniqueTag } from "./helpers.ts";

const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
/** The loopback PyPI proxy's URL with credentials in it (it ignores them, as an open index does). */
const withCredentials = (url: string) => url.replace("://", `://harden-user:${PASSWORD}@`);

/** source-hello (no hook of its own) with one more build step. */
async function connectorWithStep(step: string): Promise<string> {
  const dir = await stageExample("source-hello", { tag: uniqueTag() });
  writeFileSync(
    join(dir, "build_customization.ts"),
    `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({\n  postConnectorInstall: (recipe) => recipe.withExec(["sh", "-c", ${JSON.stringify(step)}]),\n});\n`,
  );
  return dir;
}

describe("package index credentials are masked", () => {
  it("a failing build step that prints the index URL: no password on stdout or stderr (--json too)", async () => {
    const dir = await connectorWithStep(`echo index:$PIP_INDEX_URL; exit 3 # ${uniqueTag()}`);
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "none", "--json", "--pip-index-url", withCredentials(pipIndexUrl())]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/exit code 3/);
    expect(cli.stderr).toContain("index:http://harden-user:***@127.0.0.1");
    expect(cli.stdout + cli.stderr).not.toContain(PASSWORD);
  }, 300_000);

  it("lock resolves from an index given with credentials (sent as a header), and writes none into the lock", async () => {
    const dir = await stageExample("source-tickets");
    const cli = await runCli(["lock", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--platform", "linux/amd64", "--index-url", withCredentials(pipIndexUrl())]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(readFileSync(join(dir, "connector-build.lock"), "utf8")).not.toContain(PASSWORD);
    expect(cli.stdout + cli.stderr).not.toContain(PASSWORD);
  }, 300_000);

  it("lock against an unreachable index with credentials: the error names it without the password", async () => {
    const dir = await stageExample("source-tickets");
    const cli = await runCli(["lock", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--platform", "linux/amd64", "--index-url", `http://harden-user:${PASSWORD}@127.0.0.1:9/simple`]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/cannot read http:\/\/127\.0\.0\.1:9\/simple\//);
    expect(cli.stdout + cli.stderr).not.toContain(PASSWORD);
  }, 300_000);
});

describe("registry credentials never outlive the push", () => {
  it("SIGINT during a registry push: exit 130, no airbyte-ci-docker-config-* folder left in TMPDIR", async () => {
    const dir = await connectorWithStep(`echo ${uniqueTag()} > /layer-marker`);
    const tmp = mkdtempSync(join(tmpdir(), "push-tmp-"));
    const child = spawnCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "registry:127.0.0.1:5000/harden-push", "--no-sbom"], {
      env: { TMPDIR: tmp, REGISTRY_USERNAME: "harden-user", REGISTRY_PASSWORD: PASSWORD, REGISTRY_HOST: "127.0.0.1:5000" },
    });
    child.stdin.end();
    let stderr = "";
    child.stderr.on("data", (b) => (stderr += b));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const configs = () => readdirSync(tmp).filter((n) => n.startsWith("airbyte-ci-docker-config-"));
    // The private DOCKER_CONFIG exists only while `docker push` runs: interrupt then.
    let seen = false;
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (configs().length > 0) {
          seen = true;
          clearInterval(poll);
          resolve();
        }
      }, 5);
      void exited.then(() => {
        clearInterval(poll);
        reject(new Error(`the build ended before its push could be interrupted:\n${stderr}`));
      });
    });
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(seen).toBe(true);
    expect(stderr).toMatch(/interrupted \(SIGINT\)/);
    expect(configs()).toEqual([]);
    expect(stderr).not.toContain(PASSWORD);
  }, 300_000);
});
