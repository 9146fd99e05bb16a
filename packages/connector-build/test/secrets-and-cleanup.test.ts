// Secrets never left on disk or printed, temporary folders and containers removed on success,
// failure and interruption; a spec that never exits is stopped; --output none.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_CATALOG, runCli, spawnCli, stageExample, uniqueTag } from "./helpers.ts";

const SECRET = `harden-s3cr3t-${Math.random().toString(36).slice(2)}`;

/** A staged connector whose postConnectorInstall hook extends the recipe with `chain`. */
async function connectorWithHook(chain: string): Promise<string> {
  const dir = await stageExample("source-zendesk-chat", { tag: uniqueTag() });
  writeFileSync(
    join(dir, "build_customization.ts"),
    `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({\n  mainFileName: "main_dev.py",\n  postConnectorInstall: (recipe) => recipe${chain},\n});\n`,
  );
  return dir;
}

/** Every file under `dir` whose content holds `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    try {
      if (readFileSync(path, "utf8").includes(needle)) found.push(path);
    } catch {
      // unreadable: not ours
    }
  }
  return found;
}
const buildDirs = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("airbyte-ci-build-"));
/** Containers a CLI process started (the engine labels them with its pid). */
const containersOf = (pid: number | undefined) => execFileSync("/usr/bin/docker", ["ps", "-aq", "--filter", `label=io.airbyte-ci.pid=${pid}`], { encoding: "utf8" }).trim();

describe("secrets and temporary files (class 2)", () => {
  it("SIGINT mid-build: exit 130, no airbyte-ci-build-* folder or secret file left, no container", async () => {
    const dir = await connectorWithHook(`.withSecretVariable("TOKEN", "token").withExec(["sh", "-c", "sleep 300 # ${uniqueTag()}"])`);
    const tmp = mkdtempSync(join(tmpdir(), "harden-tmp-"));
    const child = spawnCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "none", "--verbose", "--secret", "token=HARDEN_TOKEN"], {
      env: { TMPDIR: tmp, HARDEN_TOKEN: SECRET },
    });
    child.stdin.end();
    let stderr = "";
    let privateMode: number | undefined;
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (b) => {
        stderr += b;
        // Mid-build: the secret file is on disk and the sleeping step is running.
        const [work] = buildDirs(tmp);
        if (work && /sleep 300/.test(stderr) && filesContaining(join(tmp, work), SECRET).length > 0) {
          privateMode = statSync(join(tmp, work)).mode & 0o777;
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`the build ended before it could be interrupted:\n${stderr}`)));
    });
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(privateMode).toBe(0o700);
    expect(stderr).toMatch(/interrupted \(SIGINT\): the build stopped; temporary files and containers removed/);
    expect(stderr).not.toContain(SECRET);
    expect(buildDirs(tmp)).toEqual([]);
    expect(filesContaining(tmp, SECRET)).toEqual([]);
    expect(containersOf(child.pid)).toBe("");
  }, 300_000);

  it("a failing step that prints the secret: the error, the log and --json show *** instead", async () => {
    const dir = await connectorWithHook(`.withSecretVariable("TOKEN", "token").withExec(["sh", "-c", "echo leaked:$TOKEN; exit 3 # ${uniqueTag()}"])`);
    const tmp = mkdtempSync(join(tmpdir(), "harden-tmp-"));
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "none", "--json", "--secret", "token=HARDEN_TOKEN"], {
      env: { TMPDIR: tmp, HARDEN_TOKEN: SECRET },
    });
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/exit code 3/);
    expect(cli.stderr).toContain("leaked:***");
    expect(JSON.parse(cli.stdout)[0].error.message).toContain("leaked:***");
    expect(cli.stdout + cli.stderr).not.toContain(SECRET);
    expect(buildDirs(tmp)).toEqual([]);
  }, 300_000);
});

describe("a spec that never exits (class 5)", () => {
  it("--spec-timeout stops it, removes its container and fails (exit 1)", async () => {
    const dir = await connectorWithHook(`.withEntrypoint(["sh", "-c", "sleep 600", "spec-never-ends"])`);
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "none", "--spec-timeout", "3"]);
    expect(cli.exitCode).toBe(1);
    const name = /its container (airbyte-ci-run-[0-9a-f]+) was removed/.exec(cli.stderr)?.[1];
    expect(cli.stderr).toMatch(/\["spec"\] in sha256:[0-9a-f]+ \(linux\/amd64\) did not finish within 3 s; its container airbyte-ci-run-[0-9a-f]+ was removed/);
    expect(name).toBeDefined();
    expect(execFileSync("/usr/bin/docker", ["ps", "-aq", "--filter", `name=${name}`], { encoding: "utf8" }).trim()).toBe("");
    expect(existsSync(dir)).toBe(true);
  }, 300_000);
});

describe("--output none (class 9)", () => {
  it("prints where the image is ('→ none: <image id>'), never '→ undefined'", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "none"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^✓ source-hello .* → none: sha256:[0-9a-f]{64} /m);
    expect(cli.stdout).not.toContain("undefined");
  }, 300_000);
});
