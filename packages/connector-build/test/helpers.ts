import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCatalog, type BaseImageCatalog, type CatalogData } from "@airbyte-ci/base-images";
import type { FixtureRootImage } from "../../base-images/scripts/fixture-catalog.ts";

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(PACKAGE_DIR, "../..");
export const FIXTURE_DIR = join(REPO_ROOT, ".local/fixture");
export const LOCAL_CATALOG = join(FIXTURE_DIR, "catalog.json");

/** The PyPI proxy on loopback that scripts/env/setup.sh started: AIRBYTE_CI_PIP_INDEX_URL, else what the setup recorded. */
export function pipIndexUrl(): string {
  const fromEnv = process.env.AIRBYTE_CI_PIP_INDEX_URL;
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(join(REPO_ROOT, ".local/env/pip-index-url"), "utf8").trim();
  } catch {
    throw new Error("no PyPI proxy recorded in .local/env/pip-index-url: run scripts/bootstrap.sh");
  }
}

/** The local fixture catalog written by scripts/bootstrap.sh. */
export function localCatalog(): BaseImageCatalog {
  return parseCatalog(JSON.parse(readFileSync(LOCAL_CATALOG, "utf8")), LOCAL_CATALOG);
}

/** A fixture root image recorded by scripts/env/setup.sh. */
export function fixtureRoot(arch: "amd64" | "arm64"): FixtureRootImage & { digest: string } {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `root-${arch}.json`), "utf8"));
}

/** Starts the CLI from source as a child process (for tests that signal it or race it). */
export function spawnCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", "--conditions=@airbyte-ci/source", join(PACKAGE_DIR, "test/cli-entry.ts"), ...args], {
    cwd: options.cwd ?? PACKAGE_DIR,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/**
 * A copy of the local fixture catalog holding its first version (1.0.0) only, publishing into
 * `repository`, in a temporary folder: release tests start from there (the next minor is 1.1.0).
 */
export function testCatalog(
  repository: string,
  mutate: (data: CatalogData) => void = () => {},
): { path: string; repository: string; bytes: () => string } {
  const data = JSON.parse(readFileSync(LOCAL_CATALOG, "utf8")) as CatalogData;
  data.repository = repository;
  data.versions = data.versions.filter((v) => v.version === "1.0.0");
  mutate(data);
  const path = join(mkdtempSync(join(tmpdir(), "catalog-")), "catalog.json");
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return { path, repository, bytes: () => readFileSync(path, "utf8") };
}

/** Runs the CLI from source and collects its output. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCli(args, options);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ stdout, stderr, exitCode: code ?? 1 }));
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Copies an example connector into a fresh temporary folder (keeping its folder name, which is its
 * technical name) and points its metadata at the local catalog's published 1.0.0, as bump-base does.
 */
export async function stageExample(name: string, options: { tag?: string } = {}): Promise<string> {
  const { cpSync } = await import("node:fs");
  const { setBaseImageInYaml } = await import("../src/connector/metadata-edit.ts");
  const dir = join(mkdtempSync(join(tmpdir(), "connector-")), name);
  cpSync(join(REPO_ROOT, "examples", name), dir, { recursive: true });
  const address = localCatalog().get("1.0.0").publishedAddress;
  if (!address) throw new Error("the local catalog's 1.0.0 is not published: run scripts/bootstrap.sh");
  const metadataPath = join(dir, "metadata.yaml");
  let yaml = setBaseImageInYaml(readFileSync(metadataPath, "utf8"), address);
  if (options.tag) yaml = yaml.replace(/dockerImageTag: .*/, `dockerImageTag: ${options.tag}`);
  writeFileSync(metadataPath, yaml);
  return dir;
}

/** A unique tag, so tests never see images of another run. */
export function uniqueTag(prefix = "0.0.1"): string {
  return `${prefix}-t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
