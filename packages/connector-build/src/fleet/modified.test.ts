import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../test/helpers.ts";
import { selectModifiedConnectors } from "./modified.ts";

// A real git repository: three connectors, then commits touching some of them.
const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
let repo: string;
let connectors: string;
let first: string;

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" } }).trim();
}

function metadata(name: string, base: string): string {
  return `data:\n  connectorType: source\n  dockerRepository: airbyte/${name}\n  dockerImageTag: 0.1.0\n  language: python\n  connectorBuildOptions:\n    baseImage: 127.0.0.1:5000/fleet/python-connector-base:${base}\n`;
}

function connector(name: string, base = `1.0.0@${DIGEST_A}`): void {
  const dir = join(connectors, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "metadata.yaml"), metadata(name, base));
  writeFileSync(join(dir, "src", "main.py"), "print('hi')\n");
}

function commit(message: string): string {
  git("add", "-A");
  git("commit", "-q", "-m", message);
  return git("rev-parse", "HEAD");
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), "fleet-modified-"));
  connectors = join(repo, "airbyte-integrations", "connectors");
  git("init", "-q", "-b", "main");
  connector("source-a");
  connector("source-b");
  connector("destination-c");
  writeFileSync(join(repo, "README.md"), "repo\n");
  first = commit("three connectors");
  // Second commit: source-a's code, source-b's base image, a file outside every connector.
  writeFileSync(join(connectors, "source-a", "src", "main.py"), "print('changed')\n");
  writeFileSync(join(connectors, "source-b", "metadata.yaml"), metadata("source-b", `1.1.0@${DIGEST_B}`));
  writeFileSync(join(repo, "README.md"), "changed\n");
  commit("change a and b's base");
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe("selectModifiedConnectors", () => {
  it("defaults to HEAD~1 without an upstream and names the reasons", async () => {
    const s = await selectModifiedConnectors([repo]);
    expect(s.since).toBe("HEAD~1");
    expect(s.baseCommit).toBe(first);
    expect(s.discovered).toBe(3);
    expect(s.outsideConnectors).toBe(1);
    expect(s.selected.map((c) => [c.technicalName, c.reasons])).toEqual([
      ["source-a", ["1 file changed: src/main.py"]],
      ["source-b", ["base image 1.0.0 → 1.1.0", "1 file changed: metadata.yaml"]],
    ]);
  });

  it("counts uncommitted and untracked changes, a new connector and a re-pinned digest", async () => {
    connector("source-new");
    writeFileSync(join(connectors, "destination-c", "metadata.yaml"), metadata("destination-c", `1.0.0@${DIGEST_B}`));
    try {
      const s = await selectModifiedConnectors([connectors], { since: first });
      const reasons = Object.fromEntries(s.selected.map((c) => [c.technicalName, c.reasons]));
      expect(Object.keys(reasons)).toEqual(["destination-c", "source-a", "source-b", "source-new"]);
      expect(reasons["destination-c"]?.[0]).toBe("base image 1.0.0 re-pinned to another digest");
      expect(reasons["source-new"]?.[0]).toBe(`new connector since ${first}`);
      expect(reasons["source-new"]?.[1]).toBe("2 files changed: metadata.yaml, src/main.py");
    } finally {
      git("checkout", "-q", "--", ".");
      rmSync(join(connectors, "source-new"), { recursive: true, force: true });
    }
  });

  it("uses the merge-base with the upstream branch when there is one", async () => {
    git("branch", "-q", "upstream-main", first);
    git("checkout", "-q", "-b", "feature", "--track", "upstream-main");
    try {
      writeFileSync(join(connectors, "destination-c", "src", "main.py"), "print('feature')\n");
      commit("feature: c");
      writeFileSync(join(connectors, "destination-c", "src", "main.py"), "print('feature 2')\n");
      commit("feature: c again");
      const s = await selectModifiedConnectors([repo]);
      expect(s.since).toBe("merge-base with upstream-main");
      expect(s.baseCommit).toBe(first);
      expect(s.selected.map((c) => c.technicalName)).toEqual(["destination-c"]);
    } finally {
      git("checkout", "-q", "main");
    }
  });

  it("rejects a ref that is not a commit and a folder outside git", async () => {
    await expect(selectModifiedConnectors([repo], { since: "no-such-ref" })).rejects.toThrow(/--since 'no-such-ref': not a commit/);
    const plain = mkdtempSync(join(tmpdir(), "fleet-nogit-"));
    try {
      await expect(selectModifiedConnectors([plain])).rejects.toMatchObject({ code: "USAGE", message: expect.stringMatching(/is not in a git repository/) });
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe("build --modified (CLI)", () => {
  it("--list --json prints the selection and why; stderr explains", async () => {
    const cli = await runCli(["build", "--modified", "--list", "--json", connectors]);
    expect(cli.exitCode).toBe(0);
    const listed = JSON.parse(cli.stdout) as Array<{ dir: string; reasons: string[] }>;
    expect(listed.map((c) => c.dir.split("/").at(-1))).toEqual(["source-a", "source-b"]);
    expect(listed[1]?.reasons).toContain("base image 1.0.0 → 1.1.0");
    expect(cli.stderr).toContain("--modified: 2 of 3 connectors changed since HEAD~1");
    expect(cli.stderr).toContain("source-b: base image 1.0.0 → 1.1.0");
  });

  it("with --shard keeps a part of the selection; nothing selected builds nothing and exits 0", async () => {
    const shards = await Promise.all([1, 2].map((i) => runCli(["build", "--modified", "--list", "--shard", `${i}/2`, connectors])));
    const lines = shards.map((s) => s.stdout.trim().split("\n").filter(Boolean));
    expect(lines.flat().map((d) => d.split("/").at(-1)).sort()).toEqual(["source-a", "source-b"]);
    expect(lines.map((l) => l.length)).toEqual([1, 1]);
    const none = await runCli(["build", "--modified", "--since", "HEAD", "--json", repo]);
    expect(none.exitCode).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual([]);
    expect(none.stderr).toContain("nothing to build");
    expect(readFileSync(join(connectors, "source-a", "src", "main.py"), "utf8")).toBe("print('changed')\n");
  });

  it("bad flags exit 2 before any work", async () => {
    expect((await runCli(["build", "--since", "HEAD", connectors])).stderr).toContain("--since is only meaningful with --modified");
    const badShard = await runCli(["build", "--modified", "--shard", "3/2", connectors]);
    expect(badShard.exitCode).toBe(2);
    expect(badShard.stderr).toContain("--shard '3/2': expected <i>/<n> with 1 ≤ i ≤ n");
    expect((await runCli(["build"])).exitCode).toBe(2);
  });
});
