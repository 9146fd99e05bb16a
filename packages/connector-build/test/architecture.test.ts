// Checks of the layout the architecture (docs/architecture.md) promises, on the sources themselves.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers.ts";

const MAX_LINES = 450;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !/\.test(-d)?\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const PACKAGES = ["base-images", "hooks", "connector-build"].map((p) => join(REPO_ROOT, "packages", p, "src"));
const ALL = PACKAGES.flatMap(sources);

describe("architecture", () => {
  it(`no source file (tests aside) is over ${MAX_LINES} lines`, () => {
    expect(ALL.length).toBeGreaterThan(50);
    const long = ALL.map((f) => [relative(REPO_ROOT, f), readFileSync(f, "utf8").split("\n").length] as const).filter(([, n]) => n > MAX_LINES);
    expect(long).toEqual([]);
  });

  it("no docker process is started outside the Docker engine (engines/docker)", () => {
    const dockerEngine = join(REPO_ROOT, "packages/connector-build/src/engines/docker");
    const offenders: string[] = [];
    for (const file of ALL) {
      if (file.startsWith(dockerEngine)) continue;
      const text = readFileSync(file, "utf8");
      const where = relative(REPO_ROOT, file);
      // The docker() helper, a docker binary path, or spawning/running a program named docker.
      if (/import\s*\{[^}]*\bdocker\b[^}]*\}\s*from\s*"[^"]*docker-client\.ts"/.test(text)) offenders.push(`${where}: imports docker()`);
      if (/["'`]\/usr(?:\/local)?\/bin\/docker["'`]/.test(text)) offenders.push(`${where}: names a docker binary`);
      if (/\b(?:spawn|spawnSync|execFile|execFileSync|exec|execSync|runProcess)\(\s*["'`]docker["'`]/.test(text)) offenders.push(`${where}: runs docker`);
      if (/DOCKER_CLI/.test(text)) offenders.push(`${where}: reads DOCKER_CLI (Docker CLI discovery is engines/docker/docker-client.ts)`);
    }
    expect(offenders).toEqual([]);
  });

  it("library code installs no signal handler and edits no process.env (the CLI owns them)", () => {
    const cli = join(REPO_ROOT, "packages/connector-build/src/cli");
    const offenders = ALL.filter((f) => !f.startsWith(cli)).flatMap((file) => {
      const text = readFileSync(file, "utf8");
      const where = relative(REPO_ROOT, file);
      return [
        ...(/process\.(on|once|addListener)\(\s*["'](SIGINT|SIGTERM)/.test(text) ? [`${where}: signal handler`] : []),
        ...(/process\.env(\.[A-Za-z_]+|\[[^\]]+\])\s*=(?!=)|delete\s+process\.env/.test(text) ? [`${where}: edits process.env`] : []),
      ];
    });
    expect(offenders).toEqual([]);
  });

  it("published sources know nothing of this repository's dev setup", () => {
    const offenders = ALL.filter((f) => /\.local\/fixture|scripts\/bootstrap\.sh|scripts\/env\//.test(readFileSync(f, "utf8"))).map((f) => relative(REPO_ROOT, f));
    expect(offenders).toEqual([]);
  });

  // The floors of docs/architecture.md: a room imports nothing from a room above it.
  const FLOORS: ReadonlyArray<readonly [room: string, above: readonly string[], minImports: number]> = [
    ["registry", ["connector", "supply-chain", "trust", "build", "fleet", "cli"], 20],
    ["connector", ["supply-chain", "trust", "build", "fleet", "cli"], 20],
    ["inspect", ["supply-chain", "trust", "build", "fleet", "cli"], 3],
    ["supply-chain", ["build", "fleet", "cli"], 20],
    ["trust", ["build", "fleet", "cli"], 5],
    ["build", ["fleet", "cli"], 10],
  ];
  for (const [room, aboveRooms, minImports] of FLOORS) {
    it(`${room}/ imports nothing from ${aboveRooms.map((r) => `${r}/`).join(", ")} (it is a floor below them)`, () => {
      const src = join(REPO_ROOT, "packages/connector-build/src");
      const files = readdirSync(join(src, room), { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts"))
        .map((e) => join(e.parentPath, e.name));
      const above = aboveRooms.map((d) => join(src, d));
      let relativeImports = 0;
      const offenders: string[] = [];
      for (const file of files) {
        const text = readFileSync(file, "utf8");
        // import … from "…", export … from "…", import "…", import("…")
        for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) {
          const specifier = match[1] as string;
          if (!specifier.startsWith(".")) continue;
          relativeImports++;
          const target = resolve(dirname(file), specifier);
          const layer = above.find((d) => target === d || target.startsWith(`${d}/`));
          if (layer !== undefined) offenders.push(`${relative(REPO_ROOT, file)} imports ${specifier} (${relative(src, layer)}/)`);
        }
      }
      expect(files.length).toBeGreaterThan(0);
      expect(relativeImports).toBeGreaterThan(minImports); // the pattern finds the imports it checks
      expect(offenders).toEqual([]);
    });
  }
});
