// The Dagger engine path, for real: the engine scripts/env/dagger-engine.sh builds and runs on this
// machine, reached through the Dagger CLI it built (no GraphQL stand-in). Heavy builds happen once, in
// beforeAll, and are shared by the tests that look at them.
//
// scripts/test.sh exports the engine as AIRBYTE_CI_DAGGER_RUNNER_HOST / AIRBYTE_CI_DAGGER_CLI_BIN
// rather than the SDK's own variables, so that `--engine auto` elsewhere in the suite keeps meaning
// Docker; this file maps them back for its own worker only. Outside CI, without an engine, the file
// is reported skipped; with CI=true a missing engine FAILS it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageRecipe, formatImageAddress } from "@airbyte-ci/base-images";
import type { Platform } from "@airbyte-ci/base-images";
import { buildBaseImage } from "../src/base-image/build-check-publish.ts";
import { checkBaseImage } from "../src/base-image/sanity-checks.ts";
import { compareImages, renderComparisonText } from "../src/compare/compare-images.ts";
import { buildConnectors, type BuildConnectorsOptions, type ConnectorBuildResult } from "../src/build/build-connectors.ts";
import { setBaseImageInYaml } from "../src/connector/metadata-edit.ts";
import { DaggerEngine } from "../src/engines/dagger/dagger-engine.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import type { BuiltImage } from "../src/engines/engine.ts";
import { ConnectorBuildError } from "../src/errors.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { REPO_ROOT, localCatalog, pipIndexUrl, runCli, uniqueTag } from "./helpers.ts";
import { ENGINE_PRESENT, IN_CI, DAGGER_ENV, NO_ENGINE } from "./helpers/dagger-engine.ts";

const DOCKER = "/usr/bin/docker";
const EXAMPLES = ["source-hello", "source-zendesk-chat", "source-tickets", "source-tickets-declarative"] as const;
type Example = (typeof EXAMPLES)[number];

// --- The engine, from the environment scripts/test.sh prepared ------------------------------------

// Skipped (and reported so) only outside CI; in CI the first test fails with NO_ENGINE.
const suite = ENGINE_PRESENT || IN_CI ? describe : describe.skip;

const SECRET = `daggercode-secret-${Math.random().toString(36).slice(2)}-do-not-leak`;
const PLATFORMS: Platform[] = ["linux/amd64", "linux/arm64"];

let dagger: DaggerEngine;
const docker = new DockerEngine();
let work: string;
const cleanupTags: string[] = [];

/** A copy of an example pointed at the local catalog's latest published base, with a unique tag. */
function stage(example: Example, tag: string): string {
  const latest = localCatalog().latestStable();
  if (!latest?.publishedAddress) throw new Error("the local catalog has no published version: run scripts/bootstrap.sh");
  const dir = join(mkdtempSync(join(work, "connector-")), example);
  cpSync(join(REPO_ROOT, "examples", example), dir, { recursive: true });
  const meta = join(dir, "metadata.yaml");
  writeFileSync(meta, setBaseImageInYaml(readFileSync(meta, "utf8"), latest.publishedAddress).replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
  return dir;
}

function buildOptions(engine: DaggerEngine | DockerEngine, extra: Partial<BuildConnectorsOptions> = {}): BuildConnectorsOptions {
  return { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" }, pipIndex: { indexUrl: pipIndexUrl() }, ...extra };
}

function specOf(ref: string): { type: string; spec: { connectionSpecification: Record<string, unknown> } } {
  const out = execFileSync(DOCKER, ["run", "--rm", ref, "spec"], { maxBuffer: 16 << 20 }).toString();
  const line = out.split("\n").find((l) => l.startsWith("{") && l.includes('"SPEC"'));
  if (!line) throw new Error(`${ref} printed no SPEC message:\n${out}`);
  return JSON.parse(line);
}

/**
 * The blobs (layers, config, manifests) of an OCI tarball that contain `value`, each read
 * decompressed when gzipped: streamed through gzip and grep, never held in memory.
 */
function blobsContaining(tarball: string, value: string): { blobs: number; leaking: string[] } {
  const dir = mkdtempSync(join(work, "oci-"));
  execFileSync("tar", ["-xf", tarball, "-C", dir]);
  const blobs = join(dir, "blobs", "sha256");
  const script = 'for f in "$1"/*; do { gzip -dc "$f" 2>/dev/null || cat "$f"; } | grep -q -a -F -e "$VALUE" && echo "$f"; done; true';
  const out = execFileSync("sh", ["-c", script, "sh", blobs], { env: { ...process.env, VALUE: value } }).toString();
  const leaking = out.split("\n").filter(Boolean);
  const count = readdirSync(blobs).length;
  rmSync(dir, { recursive: true, force: true });
  return { blobs: count, leaking };
}

suite("Dagger engine, for real (scripts/env/dagger-engine.sh)", () => {
  beforeAll(async () => {
    if (!ENGINE_PRESENT) throw new Error(NO_ENGINE);
    work = mkdtempSync(join(tmpdir(), "dagger-real-"));
    dagger = new DaggerEngine();
    await dagger.client();
  }, 120_000);
  afterAll(async () => {
    await dagger?.close();
    for (const tag of cleanupTags) {
      try {
        execFileSync(DOCKER, ["image", "rm", "-f", tag], { stdio: "ignore" });
      } catch {
        // already gone
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe("recipes", () => {
    const rootAddress = () => formatImageAddress(localCatalog().get("1.0.0").rootImage("linux/amd64"));
    it("builds, runs in, and reads the config of a recipe; names a failing operation with its output", async () => {
      const base = rootAddress();
      const recipe = ImageRecipe.empty()
        .from(base)
        .withEnvVariable("GREETING", "hello from dagger")
        .withNewFile("/opt/greeting.txt", "hi\n")
        .withExec(["sh", "-c", "cat /opt/greeting.txt > /opt/out.txt"])
        .withLabel("io.airbyte.test", "dagger-real-engine");
      const image = await dagger.build({ recipe, platform: "linux/amd64" });
      expect(image.engine).toBe("dagger");
      expect(await dagger.run(image, ["cat", "/opt/out.txt"])).toEqual({ stdout: "hi\n", stderr: "", exitCode: 0 });
      expect((await dagger.run(image, ["sh", "-c", "echo out; echo err >&2; exit 7"]))).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 7 });
      const config = await dagger.inspect(image);
      expect(config.env.GREETING).toBe("hello from dagger");
      expect(config.labels["io.airbyte.test"]).toBe("dagger-real-engine");
      expect(`${config.os}/${config.architecture}`).toBe("linux/amd64");

      const failing = recipe.withExec(["sh", "-c", "echo about to fail; exit 3"]);
      const error = await dagger.build({ recipe: failing, platform: "linux/amd64" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectorBuildError);
      expect(error).toMatchObject({ code: "BUILD_FAILED" });
      expect((error as Error).message).toMatch(/failed at operation 5 \(withExec \["sh","-c","echo about to fail; exit 3"\]\).*exited with code 3/s);
      expect((error as Error).message).toMatch(/last output:\nabout to fail/);

      // Two identical withExecs: the one that fails is found by probing prefixes.
      const twice = ImageRecipe.empty().from(base).withExec(["sh", "-c", 'test "$MODE" != strict || { echo strict check failed; exit 2; }'])
        .withEnvVariable("MODE", "strict").withExec(["sh", "-c", 'test "$MODE" != strict || { echo strict check failed; exit 2; }']);
      const probed = await dagger.build({ recipe: twice, platform: "linux/amd64" }).catch((e: unknown) => e);
      expect(probed).toMatchObject({ code: "BUILD_FAILED", message: expect.stringContaining("failed at operation 3 (withExec") });
      expect((probed as Error).message).toContain("strict check failed");
    }, 600_000);

    it("cache volumes: a second build sees what the first left in the volume, and the image keeps none of it", async () => {
      const base = rootAddress();
      const cache = `daggercode-cache-${uniqueTag()}`;
      const stamp = uniqueTag();
      const first = ImageRecipe.empty().from(base).withMountedCache("/cache", cache).withExec(["sh", "-c", `echo ${stamp} > /cache/stamp`]).withoutMount("/cache");
      await dagger.build({ recipe: first, platform: "linux/amd64" });
      // Same sharing mode as the first build: on Dagger the sharing mode is part of a volume's identity
      // (a `locked` mount of the same name is another, empty volume), on Docker's BuildKit it is not.
      const second = ImageRecipe.empty().from(base).withMountedCache("/cache", cache)
        .withExec(["sh", "-c", "cp /cache/stamp /seen-stamp"]).withoutMount("/cache");
      const image = await dagger.build({ recipe: second, platform: "linux/amd64" });
      expect((await dagger.run(image, ["cat", "/seen-stamp"])).stdout).toBe(`${stamp}\n`);
      // The mount is gone from the image: /cache is an empty (or absent) directory in it.
      expect((await dagger.run(image, ["sh", "-c", "ls -A /cache 2>/dev/null | wc -l"])).stdout.trim()).toBe("0");
      // A different volume is empty.
      const other = ImageRecipe.empty().from(base).withMountedCache("/cache", `${cache}-other`).withExec(["sh", "-c", "test ! -e /cache/stamp"]);
      await expect(dagger.build({ recipe: other, platform: "linux/amd64" })).resolves.toMatchObject({ engine: "dagger" });
    }, 600_000);

    it("secrets: used by a step, never in a layer, a label, the image config or a log", async () => {
      const base = rootAddress();
      const progress: string[] = [];
      const recipe = ImageRecipe.empty()
        .from(base)
        .withSecretVariable("TOKEN", "token")
        // A secret's value is not part of a step's cache key (on Docker's BuildKit either): the step is
        // made unique so that a step cached by an earlier run, with another value, is not reused.
        .withExec(["sh", "-c", `: ${uniqueTag()}; printf '%s' "$TOKEN" | sha256sum | cut -c1-64 > /token.sha256; echo "token is $TOKEN"`])
        .withLabel("io.airbyte.test", "secrets");
      const image = await dagger.build({ recipe, platform: "linux/amd64", secrets: { token: SECRET }, onProgress: (l) => progress.push(l) });
      // The step saw the value…
      expect((await dagger.run(image, ["cat", "/token.sha256"])).stdout.trim()).toBe(createHash("sha256").update(SECRET).digest("hex"));
      // …which is nowhere in the image: not in the environment a process sees, the config, a label…
      expect((await dagger.run(image, ["sh", "-c", "printenv"])).stdout).not.toContain(SECRET);
      expect((await dagger.run(image, ["sh", "-c", "printenv TOKEN || echo unset"])).stdout).toBe("unset\n");
      expect(JSON.stringify(await dagger.inspect(image))).not.toContain(SECRET);
      expect(progress.join("\n")).not.toContain(SECRET);
      // …nor in any blob (layers, config, manifests) of the exported image.
      const tarball = join(work, "secret.oci.tar");
      await dagger.exportOci([image], tarball);
      const scan = blobsContaining(tarball, SECRET);
      expect(scan.blobs).toBeGreaterThan(3);
      expect(scan.leaking).toEqual([]);
      // The scan does find what is there: the hash the step wrote is in a layer.
      expect(blobsContaining(tarball, createHash("sha256").update(SECRET).digest("hex")).leaking.length).toBeGreaterThan(0);
      // A failing step that prints the secret: the error names the step, the value is masked.
      const failing = recipe.withExec(["sh", "-c", 'echo "leaking $TOKEN"; exit 5']);
      const error = await dagger.build({ recipe: failing, platform: "linux/amd64", secrets: { token: SECRET } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BUILD_FAILED" });
      expect((error as Error).message).toContain("exited with code 5");
      expect((error as Error).message).not.toContain(SECRET);
    }, 600_000);
  });

  describe("base image 1.0.0 of the local catalog on linux/amd64 and linux/arm64", () => {
    let images: BuiltImage[];
    beforeAll(async () => {
      images = await buildBaseImage(dagger, localCatalog().get("1.0.0"), PLATFORMS, { pipIndex: { indexUrl: pipIndexUrl() } });
    }, 1_800_000);

    it("builds for both platforms and passes the version's sanity checks on each", async () => {
      expect(images.map((i) => i.platform)).toEqual(PLATFORMS);
      for (const image of images) {
        const config = await dagger.inspect(image);
        expect(`${config.os}/${config.architecture}`).toBe(image.platform);
        expect((await dagger.run(image, ["uname", "-m"])).stdout.trim()).toBe(image.platform === "linux/amd64" ? "x86_64" : "aarch64");
      }
      const report = await checkBaseImage(dagger, localCatalog().get("1.0.0"), images);
      expect(report.results.filter((r) => !r.passed)).toEqual([]);
      expect(report.results.length).toBeGreaterThanOrEqual(2 * 3);
      expect(report.passed).toBe(true);
    }, 600_000);
  });

  describe("the example connectors, built on Dagger and on Docker", () => {
    const tags = {} as Record<Example, { dagger: string; docker: string }>;
    const results = {} as Record<Example, { dagger: ConnectorBuildResult; docker: ConnectorBuildResult }>;
    beforeAll(async () => {
      for (const example of EXAMPLES) {
        // The same tag on both engines (the tag is a label of the image): the Docker build is built
        // and loaded first, then kept under a second tag before the Dagger build replaces the first.
        const tag = uniqueTag();
        const repo = `airbyte/${example}`;
        const [onDocker] = await buildConnectors([stage(example, tag)], buildOptions(docker));
        tags[example] = { dagger: `${repo}:${tag}`, docker: `${repo}:${tag}-docker` };
        cleanupTags.push(tags[example].dagger, tags[example].docker);
        if (onDocker?.status === "success") execFileSync(DOCKER, ["tag", `${repo}:${tag}`, tags[example].docker]);
        const [onDagger] = await buildConnectors([stage(example, tag)], buildOptions(dagger));
        results[example] = { dagger: onDagger as ConnectorBuildResult, docker: onDocker as ConnectorBuildResult };
      }
    }, 2_400_000);

    for (const example of EXAMPLES) {
      it(`${example}: built on Dagger, loaded into Docker (--output docker), answers spec`, () => {
        const { dagger: result } = results[example];
        expect(result.error).toBeUndefined();
        expect(result.status).toBe("success");
        expect(result.platforms.map((p) => p.verification.spec)).toEqual([true]);
        const spec = specOf(tags[example].dagger);
        expect(spec.type).toBe("SPEC");
        expect(Object.keys(spec.spec.connectionSpecification).length).toBeGreaterThan(0);
      });

      it(`${example}: the Dagger and the Docker images compare identical (env, entrypoint, workdir, user, labels, packages, distributions, spec)`, async () => {
        expect(results[example].docker.error).toBeUndefined();
        const comparison = await compareImages(docker, tags[example].docker, tags[example].dagger);
        expect(comparison.unavailable, "every aspect answered").toEqual([]);
        expect(comparison.differences, renderComparisonText(comparison)).toEqual([]);
        expect(comparison.identical).toBe(true);
      }, 300_000);
    }
  });

  describe("rebuilds in one session", () => {
    it("a rebuild after a code edit has the edit, and one after a dependency edit has the new manifest", async () => {
      const dir = stage("source-hello", uniqueTag());
      const build = async () => {
        const [result] = await buildConnectors([dir], buildOptions(dagger, { output: { kind: "none" } }));
        expect(result?.error).toBeUndefined();
        return { engine: "dagger", platform: "linux/amd64", ref: result?.platforms[0]?.imageId as string } as BuiltImage;
      };
      const read = async (image: BuiltImage, file: string) => (await dagger.run(image, ["cat", file])).stdout;
      const first = await build();
      const mark = `# code edit ${uniqueTag()}`;
      writeFileSync(join(dir, "source_hello/source.py"), `${readFileSync(join(dir, "source_hello/source.py"), "utf8")}\n${mark}\n`);
      const second = await build();
      expect(await read(first, "/airbyte/integration_code/source_hello/source.py")).not.toContain(mark);
      expect(await read(second, "/airbyte/integration_code/source_hello/source.py")).toContain(mark);
      writeFileSync(join(dir, "setup.py"), readFileSync(join(dir, "setup.py"), "utf8").replace('description="', `description="${mark} `));
      const third = await build();
      expect(await read(third, "/airbyte/integration_code/setup.py")).toContain(mark);
    }, 600_000);
  });

  describe("outputs", () => {
    it("oci:<file> writes one OCI tarball; registry:<prefix> publishes one amd64+arm64 index to the local registry", async () => {
      const tag = uniqueTag();
      const oci = join(work, "hello.oci.tar");
      const [toOci] = await buildConnectors([stage("source-hello", tag)], buildOptions(dagger, { platforms: PLATFORMS, output: { kind: "oci", path: oci } }));
      expect(toOci?.error).toBeUndefined();
      const index = JSON.parse(execFileSync("tar", ["-xOf", oci, "index.json"]).toString()) as { manifests: Array<{ platform?: { architecture: string } }> };
      expect(index.manifests.map((m) => m.platform?.architecture).sort()).toEqual(["amd64", "arm64"]);

      const prefix = `127.0.0.1:5000/daggercode-${uniqueTag().replace(/\./g, "-")}`;
      const [published] = await buildConnectors([stage("source-hello", tag)], buildOptions(dagger, { platforms: PLATFORMS, output: { kind: "registry", prefix } }));
      expect(published?.error).toBeUndefined();
      expect(published?.platforms.map((p) => p.verification.spec)).toEqual([true, true]);
      const reference = `${prefix}/airbyte/source-hello:${tag}`;
      const fetched = await new RegistryClient().getManifest(reference);
      expect(fetched.kind).toBe("index");
      expect(fetched.digest).toBe(published?.output?.digest);
      if (fetched.kind !== "index") return;
      expect(fetched.manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
      // The published index answers spec on Docker, pulled by digest.
      expect(specOf(`${prefix}/airbyte/source-hello@${fetched.digest}`).type).toBe("SPEC");
    }, 1_200_000);

    it("the CLI: build --engine dagger --output docker gives an image answering spec; a throwing hook fails with HOOK_FAILED", async () => {
      const tag = uniqueTag();
      const dir = stage("source-hello", tag);
      const ok = await runCli(["build", dir, "--catalog", "local", "--engine", "dagger", "--output", "docker", "--json"], { env: DAGGER_ENV });
      expect(ok.exitCode, ok.stderr).toBe(0);
      cleanupTags.push(`airbyte/source-hello:${tag}`);
      expect(specOf(`airbyte/source-hello:${tag}`).type).toBe("SPEC");

      const hooked = stage("source-zendesk-chat", uniqueTag());
      writeFileSync(
        join(hooked, "build_customization.ts"),
        'import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({ mainFileName: "main_dev.py", postConnectorInstall: (r) => r.withExec(["sh", "-c", "echo hook step failed >&2; exit 9"]) });\n',
      );
      const failed = await runCli(["build", hooked, "--catalog", "local", "--engine", "dagger", "--output", "docker", "--json"], { env: DAGGER_ENV });
      expect(failed.exitCode).not.toBe(0);
      const [result] = JSON.parse(failed.stdout) as ConnectorBuildResult[];
      expect(result?.status).toBe("failed");
      expect(result?.error?.code).toBe("BUILD_FAILED");
      expect(result?.error?.message).toMatch(/Dagger build for linux\/amd64 failed at operation \d+ \(withExec \["sh","-c","echo hook step failed >&2; exit 9"\]\).*exited with code 9/s);
      expect(result?.error?.message).toContain("hook step failed");

      writeFileSync(
        join(hooked, "build_customization.ts"),
        'import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({ mainFileName: "main_dev.py", preConnectorInstall: () => { throw new Error("no token"); } });\n',
      );
      const threw = await runCli(["build", hooked, "--catalog", "local", "--engine", "dagger", "--json"], { env: DAGGER_ENV });
      expect(threw.exitCode).not.toBe(0);
      expect((JSON.parse(threw.stdout) as ConnectorBuildResult[])[0]?.error).toMatchObject({ code: "HOOK_FAILED", message: expect.stringMatching(/hook preConnectorInstall threw: no token/) });
    }, 900_000);
  });
});
