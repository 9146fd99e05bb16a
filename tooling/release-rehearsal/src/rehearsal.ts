import { randomBytes } from "node:crypto";
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkEngines, type EnginesReport } from "./engines.ts";
import { run, type RunResult } from "./run.ts";
import { snapshotWorkingTree } from "./snapshot.ts";
import {
  BROKEN_BUILD_CUSTOMIZATION,
  BROKEN_HOOK_LINE,
  BUILD_CUSTOMIZATION,
  readmeExample,
  TSCONFIG,
  TSCONFIG_BROKEN,
  TSCONFIG_README,
} from "./stranger-project.ts";
import { listTarball, type TarballEntry } from "./tarball.ts";
import { startLoopbackRegistry, type LoopbackRegistry } from "./verdaccio.ts";

/** The repository this package lives in. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The packages a release publishes, by folder under packages/. */
export const PUBLISHED = {
  "@airbyte-ci/base-images": "packages/base-images",
  "@airbyte-ci/hooks": "packages/hooks",
  "@airbyte-ci/connector-build": "packages/connector-build",
} as const;
export type PublishedName = keyof typeof PUBLISHED;
const NAMES = Object.keys(PUBLISHED) as PublishedName[];

/** Debian's Docker client: BuildKit built in (see the README); the CLI picks it by itself. */
const DOCKER = "/usr/bin/docker";

export interface RehearsalOptions {
  /** Default: this repository. */
  readonly repoRoot?: string;
  /** The local fixture catalog. Default: `<repoRoot>/.local/fixture/catalog.json` (scripts/bootstrap.sh). */
  readonly catalog?: string;
  /** Keep the temporary folder, the registry storage and the image. Default: false. */
  readonly keep?: boolean;
  /** Progress lines. Default: stderr. */
  readonly log?: (line: string) => void;
}

export interface PublishedPackage {
  readonly name: PublishedName;
  readonly version: string;
  /** The version document the registry serves (what `npm install` reads). */
  readonly manifest: Record<string, unknown> & {
    dependencies?: Record<string, string>;
    engines?: Record<string, string>;
    repository?: { type?: string; url?: string; directory?: string };
  };
  readonly tarballUrl: string;
  readonly tarballBytes: number;
  readonly files: TarballEntry[];
}

/** The part of `changeset status --output <file>` the rehearsal reads. */
export interface ReleasePlan {
  readonly changesets: { id: string; summary: string; releases: { name: string; type: string }[] }[];
  readonly releases: { name: string; type: string; oldVersion: string; newVersion: string }[];
}

export interface RehearsalResult {
  readonly registryUrl: string;
  /** Seconds per step, in order. */
  readonly timings: { step: string; seconds: number }[];
  /** The real repository's package versions and changesets, before and after: must not move. */
  readonly realTree: { before: string; after: string };
  readonly copy: {
    /** `changeset status --output` before the release: what changesets planned. */
    readonly plan: ReleasePlan;
    readonly changesetsBefore: string[];
    readonly changesetsAfter: string[];
    readonly versions: Record<PublishedName, string>;
    readonly changelogs: Record<PublishedName, string>;
    readonly tags: string[];
  };
  readonly release: RunResult;
  readonly published: Record<PublishedName, PublishedPackage>;
  readonly stranger: {
    readonly dir: string;
    /** The stranger's package.json after the installs. */
    readonly manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    readonly install: RunResult;
    /** `npm view <name>@<version> dist.tarball` in the stranger's project: where npm takes it from. */
    readonly resolvedTarballs: Record<string, string>;
    readonly installedVersions: Record<string, string>;
    readonly hasPnpmFiles: boolean;
    readonly typescriptVersion: string;
    readonly engines: EnginesReport[];
    readonly help: RunResult;
    readonly typecheck: RunResult;
    readonly brokenTypecheck: RunResult;
    readonly brokenHookLine: number;
    /** The packages whose README has a TypeScript example, written to readme-examples/<name>.mts. */
    readonly readmeExamples: string[];
    readonly readmeTypecheck: RunResult;
    readonly bumpBase: RunResult;
    readonly build: RunResult;
    readonly image: string;
    readonly spec: RunResult;
    readonly imageConfig: { Env?: string[]; Labels?: Record<string, string> };
  };
}

/**
 * Where the stranger's project goes: /dev/shm when it is a writable tmpfs, else the temporary folder.
 * Its node_modules is 200 MB of files npm copied (not links); on a disk mounted with `discard`, as
 * here, deleting them blocked for up to a minute on a busy machine, in RAM it takes no time.
 */
function strangerParent(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** What must not change in the real tree: package versions, changesets, changelogs. */
function fingerprint(repoRoot: string): string {
  return JSON.stringify({
    versions: NAMES.map((name) => readJson<{ version: string }>(join(repoRoot, PUBLISHED[name], "package.json")).version),
    changelogs: NAMES.map((name) => existsSync(join(repoRoot, PUBLISHED[name], "CHANGELOG.md"))),
    changesets: readdirSync(join(repoRoot, ".changeset")).sort(),
  });
}

function changesetFiles(repo: string): string[] {
  return readdirSync(join(repo, ".changeset"))
    .filter((file) => file.endsWith(".md") && file !== "README.md")
    .sort();
}

/** Replaces one `key: value` line of the stranger's copy of a metadata.yaml, or throws. */
function setMetadataField(file: string, key: string, value: string): void {
  const text = readFileSync(file, "utf8");
  const pattern = new RegExp(`^(\\s*${key}:\\s*).*$`, "m");
  if (!pattern.test(text)) throw new Error(`${file}: no ${key} line: expected the example's metadata.yaml to hold one`);
  writeFileSync(file, text.replace(pattern, `$1${value}`));
}

/**
 * The whole rehearsal: a loopback registry, `pnpm release` in a copy of the working tree publishing
 * to it, then a stranger's npm project installing, type-checking and building from it. Throws when
 * a step that must succeed fails; the steps that may legitimately fail (the broken type-check) are
 * returned for the caller to judge.
 */
export async function rehearse(options: RehearsalOptions = {}): Promise<RehearsalResult> {
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  const catalog = options.catalog ?? join(repoRoot, ".local/fixture/catalog.json");
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(catalog)) {
    throw new Error(`local fixture catalog ${catalog} does not exist: run scripts/bootstrap.sh first (it writes it), or pass a catalog file`);
  }
  const timings: { step: string; seconds: number }[] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log(`[rehearsal] ${name}`);
    const value = await work();
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    timings.push({ step: name, seconds });
    log(`[rehearsal] ${name}: ${seconds} s`);
    return value;
  };

  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-release-rehearsal-"));
  const copyDir = join(work, "repo");
  const strangerDir = join(strangerParent(), `airbyte-ci-release-rehearsal-stranger-${randomBytes(4).toString("hex")}`);
  const image = `release-rehearsal/source-hello:0.1.0-r${randomBytes(4).toString("hex")}`;
  const [imageRepository, imageTag] = image.split(":") as [string, string];
  const before = fingerprint(repoRoot);
  const started = performance.now();
  let registry: LoopbackRegistry | undefined;
  let imageBuilt = false;
  try {
    registry = await step("start Verdaccio on loopback", () => startLoopbackRegistry(join(work, "registry")));
    const { port, url: registryUrl } = registry;
    // 1. The maintainer's release, in a copy.
    await step("copy the working tree", () => snapshotWorkingTree(repoRoot, copyDir));
    await step("pnpm install in the copy (store reused)", () =>
      run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=append-only"], { cwd: copyDir }),
    );
    const changesetsBefore = changesetFiles(copyDir);
    const planFile = join(work, "release-plan.json");
    await step("changeset status (the release plan)", () => run("pnpm", ["exec", "changeset", "status", "--output", planFile], { cwd: copyDir }));
    const plan = readJson<ReleasePlan>(planFile);
    // The maintainer's CI writes the token line; the registry comes from the environment, as
    // changesets reads it (npm_config_registry), so no file of the repository names it.
    const userconfig = join(work, "maintainer.npmrc");
    writeFileSync(userconfig, `//127.0.0.1:${port}/:_authToken=\${NPM_TOKEN}\n`);
    const release = await step("pnpm release (changeset version, turbo build, changeset publish)", () =>
      run("pnpm", ["release"], {
        cwd: copyDir,
        env: { npm_config_registry: registryUrl, NPM_CONFIG_USERCONFIG: userconfig, NPM_TOKEN: "rehearsal-anonymous" },
      }),
    );
    const tags = (await run("git", ["tag", "--list"], { cwd: copyDir })).stdout.split("\n").filter(Boolean).sort();
    const versions = {} as Record<PublishedName, string>;
    const changelogs = {} as Record<PublishedName, string>;
    for (const name of NAMES) {
      versions[name] = readJson<{ version: string }>(join(copyDir, PUBLISHED[name], "package.json")).version;
      const changelog = join(copyDir, PUBLISHED[name], "CHANGELOG.md");
      changelogs[name] = existsSync(changelog) ? readFileSync(changelog, "utf8") : "";
    }

    // 2. What the registry now serves.
    const published = await step("read the published manifests and tarballs", async () => {
      const out = {} as Record<PublishedName, PublishedPackage>;
      for (const name of NAMES) {
        const response = await fetch(new URL(name.replace("/", "%2f"), registryUrl));
        if (!response.ok) throw new Error(`${registryUrl}: GET ${name} answered ${response.status}: expected the published package`);
        const packument = (await response.json()) as { "dist-tags": Record<string, string>; versions: Record<string, PublishedPackage["manifest"]> };
        const version = packument["dist-tags"].latest ?? "";
        const manifest = packument.versions[version];
        if (!manifest) throw new Error(`${name}: the registry has no manifest for its latest tag ${version}`);
        const tarballUrl = (manifest.dist as { tarball: string }).tarball;
        const tarball = new Uint8Array(await (await fetch(tarballUrl)).arrayBuffer());
        out[name] = { name, version, manifest, tarballUrl, tarballBytes: tarball.byteLength, files: listTarball(tarball, (path) => path === "README.md" || path === "package.json") };
      }
      return out;
    });

    // 3. A stranger's project: plain npm, the scope mapped to the loopback registry.
    mkdirSync(strangerDir);
    await step("npm init -y (stranger)", () => run("npm", ["init", "-y"], { cwd: strangerDir }));
    writeFileSync(join(strangerDir, ".npmrc"), `@airbyte-ci:registry=${registryUrl}\n`);
    const install = await step("npm install @airbyte-ci/connector-build @airbyte-ci/hooks typescript (stranger)", () =>
      run("npm", ["install", "@airbyte-ci/connector-build", "@airbyte-ci/hooks", "typescript", "--no-audit", "--no-fund", "--prefer-offline"], {
        cwd: strangerDir,
      }),
    );
    const resolvedTarballs: Record<string, string> = {};
    const installedVersions: Record<string, string> = {};
    for (const name of NAMES) {
      installedVersions[name] = readJson<{ version: string }>(join(strangerDir, "node_modules", name, "package.json")).version;
      const view = await run("npm", ["view", `${name}@${installedVersions[name]}`, "dist.tarball"], { cwd: strangerDir });
      resolvedTarballs[name] = view.stdout.trim();
    }
    const typescriptVersion = readJson<{ version: string }>(join(strangerDir, "node_modules/typescript/package.json")).version;
    const engines = NAMES.map((name) => checkEngines(strangerDir, name));
    const hasPnpmFiles = ["pnpm-lock.yaml", "pnpm-workspace.yaml", "node_modules/.pnpm"].some((path) => existsSync(join(strangerDir, path)));

    const help = await step("npx connector-build --help", () => run("npx", ["--no", "--", "connector-build", "--help"], { cwd: strangerDir }));

    const connector = join(strangerDir, "connectors/source-hello");
    cpSync(join(copyDir, "examples/source-hello"), connector, { recursive: true });
    writeFileSync(join(connector, "build_customization.ts"), BUILD_CUSTOMIZATION);
    setMetadataField(join(connector, "metadata.yaml"), "dockerRepository", imageRepository);
    setMetadataField(join(connector, "metadata.yaml"), "dockerImageTag", imageTag);
    mkdirSync(join(strangerDir, "broken"));
    writeFileSync(join(strangerDir, "broken/build_customization.ts"), BROKEN_BUILD_CUSTOMIZATION);
    writeFileSync(join(strangerDir, "tsconfig.json"), TSCONFIG);
    writeFileSync(join(strangerDir, "tsconfig.broken.json"), TSCONFIG_BROKEN);
    const typecheck = await step("tsc --noEmit (stranger's hooks)", () =>
      run(join(strangerDir, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.json", "--pretty", "false"], { cwd: strangerDir, allowFailure: true }),
    );
    const brokenTypecheck = await step("tsc --noEmit (a hook returning a number)", () =>
      run(join(strangerDir, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.broken.json", "--pretty", "false"], { cwd: strangerDir, allowFailure: true }),
    );

    mkdirSync(join(strangerDir, "readme-examples"));
    const readmeExamples: string[] = [];
    for (const name of NAMES) {
      const readme = published[name].files.find((file) => file.path === "README.md")?.text ?? "";
      const example = readmeExample(readme);
      if (example === undefined) continue;
      writeFileSync(join(strangerDir, "readme-examples", `${name.split("/")[1]}.mts`), example);
      readmeExamples.push(name);
    }
    writeFileSync(join(strangerDir, "tsconfig.readme.json"), TSCONFIG_README);
    await step("npm install --save-dev @types/node (as the connector-build README asks)", () =>
      run("npm", ["install", "--save-dev", "@types/node", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: strangerDir }),
    );
    const readmeTypecheck = await step("tsc --noEmit (the READMEs' examples)", () =>
      run(join(strangerDir, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.readme.json", "--pretty", "false"], { cwd: strangerDir, allowFailure: true }),
    );

    const bumpBase = await step("npx connector-build bump-base --to 1.0.0", () =>
      run("npx", ["--no", "--", "connector-build", "bump-base", "connectors/source-hello", "--catalog", catalog, "--to", "1.0.0"], {
        cwd: strangerDir,
      }),
    );
    imageBuilt = true; // from here on, the image may exist
    const build = await step("npx connector-build build --output docker", () =>
      run("npx", ["--no", "--", "connector-build", "build", "connectors/source-hello", "--catalog", catalog, "--output", "docker"], {
        cwd: strangerDir,
      }),
    );
    const spec = await step(`docker run --rm ${image} spec`, () => run(DOCKER, ["run", "--rm", image, "spec"], { cwd: strangerDir }));
    const inspect = await run(DOCKER, ["image", "inspect", image, "--format", "{{json .Config}}"], { cwd: strangerDir });

    timings.push({ step: "total", seconds: Math.round((performance.now() - started) / 100) / 10 });
    return {
      registryUrl,
      timings,
      realTree: { before, after: fingerprint(repoRoot) },
      copy: { plan, changesetsBefore, changesetsAfter: changesetFiles(copyDir), versions, changelogs, tags },
      release,
      published,
      stranger: {
        dir: strangerDir,
        manifest: readJson(join(strangerDir, "package.json")),
        install,
        resolvedTarballs,
        installedVersions,
        hasPnpmFiles,
        typescriptVersion,
        engines,
        help,
        typecheck,
        brokenTypecheck,
        brokenHookLine: BROKEN_HOOK_LINE,
        readmeExamples,
        readmeTypecheck,
        bumpBase,
        build,
        image,
        spec,
        imageConfig: JSON.parse(inspect.stdout) as RehearsalResult["stranger"]["imageConfig"],
      },
    };
  } finally {
    const since = (start: number) => `${Math.round((performance.now() - start) / 100) / 10} s`;
    let cleaning = performance.now();
    await registry?.stop();
    log(`[rehearsal] stopped Verdaccio: ${since(cleaning)}`);
    if (options.keep) log(`[rehearsal] kept ${work}, ${strangerDir} and ${image}`);
    else {
      cleaning = performance.now();
      if (imageBuilt) await run(DOCKER, ["image", "rm", image], { cwd: tmpdir(), allowFailure: true });
      log(`[rehearsal] removed the image: ${since(cleaning)}`);
      cleaning = performance.now();
      // rm(1) unlinks the ~50,000 files of two node_modules several times faster than fs.rmSync.
      const removed = await run("rm", ["-rf", "--", work, strangerDir], { cwd: tmpdir(), allowFailure: true });
      if (removed.exitCode !== 0) {
        for (const dir of [work, strangerDir]) rmSync(dir, { recursive: true, force: true });
      }
      log(`[rehearsal] removed ${work} and ${strangerDir}: ${since(cleaning)}`);
    }
  }
}
