import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { beforeAll, describe, expect, it } from "vitest";
import { PUBLISHED, REPO_ROOT, rehearse, type PublishedName, type RehearsalResult } from "./rehearsal.ts";

// One rehearsal for the whole file (a release, an npm install and an image build are too heavy to
// repeat per test); each test below judges one promise from its record.
let result: RehearsalResult;
beforeAll(async () => {
  result = await rehearse();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const { name, version, tarballBytes, files } of Object.values(result.published)) {
    console.log(`${name}@${version}: ${kib(tarballBytes)} packed, ${kib(files.reduce((sum, file) => sum + file.size, 0))} unpacked, ${files.length} files`);
  }
  console.log(result.timings.map(({ step, seconds }) => `${String(seconds).padStart(6)} s  ${step}`).join("\n"));
}, 600_000);

const NAMES = Object.keys(PUBLISHED) as PublishedName[];

/** The version the release plan gives a package (its current one when no changeset names it). */
function plannedVersion(name: string): string {
  const planned = result.copy.plan.releases.find((release) => release.name === name);
  return planned?.newVersion ?? JSON.parse(readFileSync(join(REPO_ROOT, PUBLISHED[name as PublishedName], "package.json"), "utf8")).version;
}

/** Anything that is not for a user of the package: tests, fixtures, benchmarks, build and test configs. */
const DEV_ONLY = [
  /(^|\/)(test|tests|__tests__|__fixtures__|fixtures|__mocks__|bench|benchmarks|scripts|coverage|\.turbo)\//,
  /\.(test|spec|bench)(-d)?\.[cm]?[jt]sx?$/,
  /(^|\/)(tsconfig[^/]*\.json|tsup\.config\.[cm]?[jt]s|vitest\.config\.[cm]?[jt]s|turbo\.json)$/,
  /\.tsbuildinfo$/,
  /(^|\/)\.[^/]+$/,
];
/** What a tarball may hold at all. */
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^dist\/[\w.-]+\.(js|d\.ts|js\.map)$/, /^bin\/[\w-]+\.js$/, /^src\/[\w/.-]+\.ts$/, /^catalog\/[\w-]+\.json$/];
const REQUIRED: Record<PublishedName, string[]> = {
  "@airbyte-ci/base-images": ["catalog/production.json", "catalog/schema.json"],
  "@airbyte-ci/hooks": [],
  "@airbyte-ci/connector-build": ["bin/connector-build.js", "dist/cli.js"],
};

function tarballManifest(name: PublishedName): Record<string, unknown> & { dependencies?: Record<string, string> } {
  const text = result.published[name].files.find((file) => file.path === "package.json")?.text;
  if (text === undefined) throw new Error(`${name}: no package.json in the tarball`);
  return JSON.parse(text);
}

describe("pnpm release in a copy of the repository", () => {
  it("plans a first release at 0.1.0 (a minor on 0.0.0), a minor or patch after that", () => {
    for (const name of NAMES) {
      const planned = result.copy.plan.releases.find((release) => release.name === name);
      expect(planned, `${name} has no pending changeset`).toBeDefined();
      if (planned?.oldVersion === "0.0.0") expect(planned.newVersion).toBe("0.1.0");
      else expect(semver.gt(planned?.newVersion ?? "0.0.0", planned?.oldVersion ?? "0.0.0")).toBe(true);
    }
  });

  it("applies the pending changesets: versions, a CHANGELOG.md per package with each changeset, changesets consumed", () => {
    expect(result.copy.changesetsBefore.length).toBeGreaterThan(0);
    expect(result.copy.changesetsAfter).toEqual([]);
    for (const name of NAMES) {
      const version = plannedVersion(name);
      expect(result.copy.versions[name]).toBe(version);
      const changelog = result.copy.changelogs[name];
      expect(changelog).toMatch(new RegExp(`^# ${name}\\n\\n## ${version.replaceAll(".", "\\.")}\\n\\n### (Major|Minor|Patch) Changes`));
      const newest = changelog.split(/^## /m)[1] ?? "";
      for (const changeset of result.copy.plan.changesets) {
        if (!changeset.releases.some((release) => release.name === name)) continue;
        expect(newest, `${name}: changeset ${changeset.id}`).toContain(changeset.summary.split("\n")[0]);
      }
    }
    // A package whose sibling is released says so.
    expect(result.copy.changelogs["@airbyte-ci/connector-build"]).toContain(`@airbyte-ci/hooks@${plannedVersion("@airbyte-ci/hooks")}`);
  });

  it("publishes all three packages to the loopback registry and tags the copy", () => {
    expect(result.release.stdout).toMatch(/packages published successfully/);
    for (const name of NAMES) {
      expect(result.published[name].version).toBe(plannedVersion(name));
      expect(result.published[name].tarballUrl.startsWith(result.registryUrl)).toBe(true);
    }
    expect(result.copy.tags).toEqual(NAMES.map((name) => `${name}@${plannedVersion(name)}`).sort());
  });

  it("never touches the real tree", () => {
    expect(result.realTree.after).toBe(result.realTree.before);
    expect(JSON.parse(result.realTree.after).changesets).toEqual(expect.arrayContaining(result.copy.changesetsBefore));
  });
});

describe.each(NAMES)("what %s promises", (name) => {
  it("depends on its siblings by real ranges: workspace:^ rewritten to ^<published version>", () => {
    const workspaceDeps = Object.entries(
      JSON.parse(readFileSync(join(REPO_ROOT, PUBLISHED[name], "package.json"), "utf8")).dependencies as Record<string, string>,
    ).filter(([, range]) => range.startsWith("workspace:"));
    expect(workspaceDeps.length).toBe(name === "@airbyte-ci/base-images" ? 0 : name === "@airbyte-ci/hooks" ? 1 : 2);
    for (const manifest of [result.published[name].manifest, tarballManifest(name)]) {
      expect(JSON.stringify(manifest)).not.toContain("workspace:");
      for (const [dependency] of workspaceDeps) {
        expect(manifest.dependencies?.[dependency], dependency).toBe(`^${result.published[dependency as PublishedName].version}`);
      }
    }
  });

  it("declares license, engines, repository with its directory, and files", () => {
    const manifest = tarballManifest(name);
    expect(manifest.license).toBe("MIT");
    expect(manifest.engines).toEqual({ node: expect.stringMatching(/^>=20(\.\d+)*$/) });
    expect(manifest.repository).toEqual({
      type: "git",
      url: expect.stringMatching(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/),
      directory: PUBLISHED[name],
    });
    expect(manifest.files).toEqual(expect.any(Array));
    expect(manifest.publishConfig).toEqual({ access: "public" });
  });

  it("ships a README with what it is for, how to install it, an example and a link to the docs", () => {
    const readme = result.published[name].files.find((file) => file.path === "README.md")?.text ?? "";
    expect(readme).toMatch(new RegExp(`^# ${name}\\n`));
    expect(readme).toMatch(new RegExp(`^npm install (--save-dev )?${name}$`, "m"));
    expect(readme).toMatch(/```(ts|sh)\n/);
    const repository = (tarballManifest(name).repository as { url: string }).url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(readme).toContain(repository);
  });

  it("holds only what a user needs: no tests, fixtures, benchmarks or dev-only files", () => {
    const paths = result.published[name].files.map((file) => file.path);
    expect(paths.filter((path) => DEV_ONLY.some((pattern) => pattern.test(path)))).toEqual([]);
    expect(paths.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)))).toEqual([]);
    expect(paths).toEqual(
      expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", ...REQUIRED[name]]),
    );
    // Every file the manifest points at is in the tarball.
    const manifest = tarballManifest(name);
    // The files `exports` points at (its leaf values; its keys are subpaths such as `./testing`) and the bins.
    const leaves = (value: unknown): string[] => (typeof value === "string" ? [value] : value !== null && typeof value === "object" ? Object.values(value).flatMap(leaves) : []);
    const targets = [
      ...leaves(manifest.exports).filter((path) => path.startsWith("./") && !path.includes("*")).map((path) => path.slice(2)),
      ...Object.values((manifest.bin as Record<string, string> | undefined) ?? {}).map((bin) => bin.replace(/^\.\//, "")),
    ];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(paths, target).toContain(target);
  });

  it("asks for no Node older than its dependencies accept", () => {
    const report = result.stranger.engines.find((entry) => entry.name === name);
    expect(report?.floor).toMatch(/^20\./);
    expect(report?.closure).toBeGreaterThan(1);
    expect(report?.violations).toEqual([]);
  });
});

describe("a stranger's npm project", () => {
  it("installs @airbyte-ci/connector-build and @airbyte-ci/hooks with plain npm, from the loopback registry", () => {
    expect(result.stranger.install.exitCode).toBe(0);
    expect(result.stranger.hasPnpmFiles).toBe(false);
    for (const name of NAMES) {
      expect(result.stranger.installedVersions[name]).toBe(result.published[name].version);
      expect(result.stranger.resolvedTarballs[name]).toBe(result.published[name].tarballUrl);
    }
    expect(Object.keys(result.stranger.manifest.dependencies ?? {}).sort()).toEqual(["@airbyte-ci/connector-build", "@airbyte-ci/hooks", "typescript"]);
  });

  it("runs npx connector-build --help", () => {
    expect(result.stranger.help.exitCode).toBe(0);
    expect(result.stranger.help.stdout).toMatch(/^Usage: connector-build/);
    expect(result.stranger.help.stdout).toMatch(/^\s+build \[options\] \[connector-dir\.\.\.\]/m);
  });

  it("type-checks a build_customization.ts using defineBuildCustomization and the recipe", () => {
    const { exitCode, stdout, stderr } = result.stranger.typecheck;
    expect(`${stdout}${stderr}`).toBe("");
    expect(exitCode).toBe(0);
  });

  it("refuses a hook returning something other than a recipe, at the hook", () => {
    const { exitCode, stdout } = result.stranger.brokenTypecheck;
    expect(exitCode).not.toBe(0);
    expect(stdout).toContain(`broken/build_customization.ts(${result.stranger.brokenHookLine},`);
    expect(stdout).toMatch(/error TS2322: Type '\(recipe: ImageRecipe\) => number' is not assignable to type 'BuildHook'/);
    expect(stdout).toMatch(/'number' is not assignable to type 'ImageRecipe \| Promise<ImageRecipe>'/);
  });

  it("type-checks every README's example against the published types", () => {
    expect(result.stranger.readmeExamples).toEqual(NAMES);
    const { exitCode, stdout, stderr } = result.stranger.readmeTypecheck;
    expect(`${stdout}${stderr}`).toBe("");
    expect(exitCode).toBe(0);
  });

  it("builds its copy of examples/source-hello with its hooks, and the image answers spec", () => {
    expect(result.stranger.bumpBase.stdout + result.stranger.bumpBase.stderr).toMatch(/updated 1 of 1 connector/);
    expect(result.stranger.build.stdout).toContain(`→ docker: ${result.stranger.image}`);
    const lines = result.stranger.spec.stdout.split("\n").filter((line) => line.startsWith("{"));
    const spec = lines.map((line) => JSON.parse(line) as { type?: string; spec?: { connectionSpecification?: unknown } }).find((m) => m.type === "SPEC");
    expect(spec?.spec?.connectionSpecification).toEqual(expect.objectContaining({ type: "object" }));
    // The stranger's hooks ran, loaded from its own node_modules.
    expect(result.stranger.imageConfig.Env).toEqual(expect.arrayContaining(["STRANGER_PRE_INSTALL=1", "STRANGER_HOOK_PLATFORM=linux/amd64"]));
    expect(result.stranger.imageConfig.Labels?.["io.example.stranger.base-image"]).toBe("1.0.0");
  });
});
