import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureRoot, localCatalog } from "../../../test/helpers.ts";
import { checkBaseImage } from "../../base-image/sanity-checks.ts";
import { findDockerClient } from "./docker-client.ts";
import { DockerEngine, inspectDockerImage } from "./docker-engine.ts";
import { renderDockerfile } from "../../dockerfile/render.ts";

const engine = new DockerEngine();
const root = fixtureRoot("amd64");
let context: string;

beforeAll(() => {
  context = mkdtempSync(join(tmpdir(), "docker-engine-test-"));
  mkdirSync(join(context, "pkg/sub"), { recursive: true });
  writeFileSync(join(context, "pkg/sub/data.txt"), "nested\n");
  writeFileSync(join(context, "hello.sh"), "#!/bin/sh\necho hello \"$@\"\n");
});
afterAll(() => rmSync(context, { recursive: true, force: true }));

describe("Docker engine (real daemon, BuildKit)", () => {
  it("finds a client with BuildKit", async () => {
    const client = await findDockerClient();
    expect(["buildx", "builtin"]).toContain(client.buildkit);
  });

  it("builds every operation as written, with literal values", async () => {
    const recipe = ImageRecipe.empty()
      .from(root.address)
      .withEnvVariable("LITERAL", 'a $HOME "quoted" \\ back')
      .withWorkdir("/opt/my dir")
      .withFile("bin/hello", "hello.sh", { permissions: 0o755 })
      .withDirectory("/data", "pkg")
      .withNewFile("/etc/greeting", "line1\n$NOT_EXPANDED\n", { permissions: 0o600 })
      .withMountedCache("/cache", "test-cache")
      .withExec(["sh", "-c", 'echo "$1" > /opt/args.txt; ls /cache > /dev/null', "sh", "it's \"quoted\"\nand multi-line"])
      .withoutMount("/cache")
      .withLabel("org.example.label", 'value with "quotes" and $dollar')
      .withEntrypoint(["/opt/my dir/bin/hello"])
      .withDefaultArgs(["world"])
      .withExec(["useradd", "--no-create-home", "runner"])
      .withUser("runner");
    const image = await engine.build({ recipe, platform: "linux/amd64", contextDir: context });
    const config = await inspectDockerImage(image.ref);
    expect(config.env.LITERAL).toBe('a $HOME "quoted" \\ back');
    expect(config.workdir).toBe("/opt/my dir");
    expect(config.labels["org.example.label"]).toBe('value with "quotes" and $dollar');
    expect(config.entrypoint).toEqual(["/opt/my dir/bin/hello"]);
    expect(config.cmd).toEqual(["world"]);
    expect(config.user).toBe("runner");
    expect(config.architecture).toBe("amd64");

    const withEntrypoint = await engine.run(image, [], { useEntrypoint: true });
    expect(withEntrypoint.stdout.trim()).toBe("hello world");
    const files = await engine.run(image, ["sh", "-c", "cat /data/sub/data.txt /opt/args.txt; stat -c %a /etc/greeting 'bin/hello'"]);
    expect(files.exitCode).toBe(0);
    expect(files.stdout).toBe("nested\nit's \"quoted\"\nand multi-line\n600\n755\n");
    const greeting = await engine.run(image, ["cat", "/etc/greeting"]);
    // readable only by root: the image runs as runner
    expect(greeting.exitCode).not.toBe(0);
  });

  it("reports the failing operation, its argv, exit code and last output lines", async () => {
    const recipe = ImageRecipe.empty()
      .from(root.address)
      .withEnvVariable("A", "1")
      .withExec(["sh", "-c", "echo first line; echo boom >&2; exit 3"]);
    await expect(engine.build({ recipe, platform: "linux/amd64" })).rejects.toThrowError(
      /failed at operation 2 \(withExec \["sh","-c","echo first line; echo boom >&2; exit 3"\]\) with exit code 3[\s\S]*last output:[\s\S]*boom/,
    );
  });

  it("refuses a missing context file before building", async () => {
    const recipe = ImageRecipe.empty().from(root.address).withFile("/x", "does-not-exist.txt");
    await expect(engine.build({ recipe, platform: "linux/amd64", contextDir: context })).rejects.toThrowError(
      /operation 1 \(withFile \/x\): 'does-not-exist\.txt' is not a file in the build context/,
    );
  });

  it("reports which steps came from the cache", async () => {
    const recipe = ImageRecipe.empty().from(root.address).withExec(["sh", "-c", `echo ${Date.now()}-${Math.random()} > /stamp`]);
    const first = await engine.build({ recipe, platform: "linux/amd64" });
    const second = await engine.build({ recipe, platform: "linux/amd64" });
    expect(first.cache?.steps).toEqual([{ operation: 1, op: "withExec", cached: false }]);
    expect(second.cache?.steps).toEqual([{ operation: 1, op: "withExec", cached: true }]);
    expect(second.ref).toBe(first.ref);
  });

  it("exposes secrets to RUN only: never in the Dockerfile, the image, its history or the progress log", async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const recipe = ImageRecipe.empty()
      .from(root.address)
      // BuildKit does not key its cache on secret values: a fresh step per run, or a rerun reuses the last one.
      .withEnvVariable("RUN_ID", secret.slice(7))
      .withSecretVariable("INDEX_TOKEN", "index-token")
      // The RUN is unique to this run: BuildKit's cache key ignores secret values, so an identical RUN
      // of an earlier run (another secret) would be reused as it is.
      .withExec(["sh", "-c", `: ${secret.length}-${Date.now()}; printf %s "$INDEX_TOKEN" | sha256sum | cut -d" " -f1 > /token.sha256`]);
    const rendered = renderDockerfile(recipe);
    expect(rendered.dockerfile).toContain("--mount=type=secret,id=index-token");
    expect(rendered.dockerfile).not.toContain(secret);
    const progress: string[] = [];
    const image = await engine.build({ recipe, platform: "linux/amd64", secrets: { "index-token": secret }, onProgress: (l) => progress.push(l) });
    const seen = await engine.run(image, ["cat", "/token.sha256"]);
    expect(seen.stdout.trim()).toBe(createHash("sha256").update(secret).digest("hex"));
    const env = await engine.run(image, ["printenv"]);
    expect(env.stdout).not.toContain(secret);
    expect(JSON.stringify(await inspectDockerImage(image.ref))).not.toContain(secret);
    expect(execFileSync("/usr/bin/docker", ["history", "--no-trunc", image.ref]).toString()).not.toContain(secret);
    expect(progress.join("\n")).not.toContain(secret);
    await expect(engine.build({ recipe, platform: "linux/amd64" })).rejects.toThrowError(/needs the secret\(s\) index-token/);
  });

  it("runs without network when asked (spec verification): only the loopback interface", async () => {
    const image = await engine.build({ recipe: ImageRecipe.empty().from(root.address).withLabel("fleet", "network"), platform: "linux/amd64" });
    const isolated = await engine.run(image, ["ls", "/sys/class/net"], { network: false });
    expect(isolated.stdout.split(/\s+/).filter(Boolean)).toEqual(["lo"]);
    const networked = await engine.run(image, ["ls", "/sys/class/net"]);
    expect(networked.stdout.split(/\s+/).filter(Boolean).length).toBeGreaterThan(1);
  });

  it("exports an OCI layout tarball with one manifest per platform", async () => {
    const image = await engine.build({ recipe: ImageRecipe.empty().from(root.address).withLabel("a", "b"), platform: "linux/amd64" });
    const out = join(context, "image.oci.tar");
    await engine.exportOci([image], out);
    const index = JSON.parse(execFileSync("tar", ["-xOf", out, "./index.json"]).toString());
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].platform).toEqual({ os: "linux", architecture: "amd64" });
    const digest: string = index.manifests[0].digest;
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", out, `./blobs/sha256/${digest.slice(7)}`]).toString());
    expect(manifest.layers.length).toBeGreaterThan(0);
    expect(readFileSync(out).length).toBeGreaterThan(1000);
  });
});

describe("fixture base image", () => {
  it("builds from its rendered Dockerfile and passes every sanity check (linux/amd64)", async () => {
    const version = localCatalog().get("1.0.0");
    const image = await engine.build({ recipe: version.recipeFor("linux/amd64"), platform: "linux/amd64" });
    const report = await checkBaseImage(engine, version, [image]);
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report.results.length).toBe(version.sanityChecks.length);
    expect(report.passed).toBe(true);
  });

  it("a wrong expectation fails with what was expected and what was seen", async () => {
    const version = localCatalog().get("1.0.0");
    const image = await engine.build({ recipe: version.recipeFor("linux/amd64"), platform: "linux/amd64" });
    const { runSanityChecks } = await import("../../base-image/sanity-checks.ts");
    const [result] = await runSanityChecks(engine, image, [
      { kind: "command", name: "python is 3.9.18", argv: ["python", "--version"], expect: { stdout: "Python 3.9.18" } },
    ]);
    expect(result).toMatchObject({ passed: false, expected: "exit code 0, stdout 'Python 3.9.18'", seen: "exit code 0, stdout 'Python 3.11.2'" });
  });
});

describe("linux/arm64 under qemu-user-static emulation", () => {
  it("builds and runs a small recipe for arm64", async () => {
    const arm = fixtureRoot("arm64");
    const recipe = ImageRecipe.empty().from(arm.address).withExec(["sh", "-c", "uname -m > /arch"]).withLabel("arch", "arm64");
    const image = await engine.build({ recipe, platform: "linux/arm64" });
    expect((await inspectDockerImage(image.ref)).architecture).toBe("arm64");
    const arch = await engine.run(image, ["cat", "/arch"]);
    expect(arch.stdout.trim()).toBe("aarch64");
    const py = await engine.run(image, ["python3", "-c", "import platform; print(platform.machine())"]);
    expect(py.stdout.trim()).toBe("aarch64");
  }, 300_000);
});
