// examples/pipeline run as a CI pipeline would run it, against the local registry and Docker: a git
// repository of three connectors, two changed since the last commit, built as two shards (one
// connector each), published, signed with provenance, and the shards' results merged into one
// Markdown summary. The example imports only the package's public entry.
import { execFile, execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadVerificationKey, verifyImage, type ConnectorBuildResult } from "../src/index.ts";
import { LOCAL_CATALOG, REPO_ROOT, localCatalog, uniqueTag } from "./helpers.ts";
import { setBaseImageInYaml } from "../src/connector/metadata-edit.ts";

const PIPELINE = join(REPO_ROOT, "examples/pipeline/pipeline.ts");

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: "ci", GIT_AUTHOR_EMAIL: "ci@example.com", GIT_COMMITTER_NAME: "ci", GIT_COMMITTER_EMAIL: "ci@example.com" } }).toString();
}

async function pipeline(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--conditions=@airbyte-ci/source", PIPELINE, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
      timeout: 900_000,
    });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("examples/pipeline: a CI pipeline on the library's public API", () => {
  it("builds the connectors changed since a ref, in shards, publishes and signs them, and merges the shards' reports", async () => {
    const repo = mkdtempSync(join(tmpdir(), "pipeline-repo-"));
    const connectors = join(repo, "airbyte-integrations/connectors");
    const address = localCatalog().get("1.0.0").publishedAddress as string;
    const tag = uniqueTag();
    for (const name of ["source-alpha", "source-beta", "source-gamma"]) {
      const dir = join(connectors, name);
      mkdirSync(dir, { recursive: true });
      cpSync(join(REPO_ROOT, "examples/source-hello"), dir, { recursive: true });
      execFileSync("mv", [join(dir, "source_hello"), join(dir, name.replace("-", "_"))]);
      const metadata = join(dir, "metadata.yaml");
      writeFileSync(metadata, setBaseImageInYaml(readFileSync(metadata, "utf8"), address).replace("airbyte/source-hello", `airbyte/${name}`).replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
      const setup = join(dir, "setup.py");
      writeFileSync(setup, readFileSync(setup, "utf8").replace('name="source_hello"', `name="${name.replace("-", "_")}"`));
      const main = join(dir, "main.py");
      writeFileSync(main, readFileSync(main, "utf8").replaceAll("source_hello", name.replace("-", "_")));
    }
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "three connectors");
    for (const name of ["source-alpha", "source-gamma"]) appendFileSync(join(connectors, name, "main.py"), "\n# changed\n");
    git(repo, "commit", "-q", "-am", "two connectors changed");

    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const work = mkdtempSync(join(tmpdir(), "pipeline-work-"));
    writeFileSync(join(work, "cosign.key"), keys.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    writeFileSync(join(work, "cosign.pub"), keys.publicKey.export({ type: "spki", format: "pem" }));
    const registry = `127.0.0.1:5000/pipeline-${Date.now().toString(36)}`;
    const shardResults: string[] = [];
    for (const shard of ["1/2", "2/2"]) {
      const results = join(work, `results/shard-${shard.replace("/", "-of-")}.json`);
      const run = await pipeline(["build", "--root", repo, "--since", "HEAD~1", "--shard", shard, "--registry", registry, "--sign-key", join(work, "cosign.key"), "--results", results, "--catalog", LOCAL_CATALOG]);
      expect(run.exitCode, run.stderr).toBe(0);
      shardResults.push(results);
    }
    const built = shardResults.flatMap((f) => JSON.parse(readFileSync(f, "utf8")) as ConnectorBuildResult[]);
    // The two changed connectors, one per shard; the unchanged one is not built.
    expect(built.map((r) => r.connector).sort()).toEqual(["source-alpha", "source-gamma"]);
    expect(shardResults.map((f) => (JSON.parse(readFileSync(f, "utf8")) as unknown[]).length)).toEqual([1, 1]);
    const key = loadVerificationKey(join(work, "cosign.pub"));
    for (const result of built) {
      expect(result.status, result.error?.message).toBe("success");
      const reference = `${registry}/airbyte/${result.connector}:${tag}`;
      const verified = await verifyImage(reference, { key, require: ["provenance"], base: address.split(":1.0.0")[0] as string });
      expect(verified.checks.filter((c) => !c.ok)).toEqual([]);
      expect(verified.valid).toBe(true);
    }

    const summary = join(work, "summary.md");
    const report = await pipeline(["report", ...shardResults, "--summary", summary]);
    expect(report.exitCode, report.stderr).toBe(0);
    const markdown = readFileSync(summary, "utf8");
    expect(markdown).toContain("all succeeded");
    expect(markdown).toContain("source-alpha");
    expect(markdown).toContain("source-gamma");
    expect(markdown).not.toContain("source-beta");
  }, 1_200_000);
});
