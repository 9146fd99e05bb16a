// The Dagger engine at parity with the Docker engine, each feature checked on both real engines side
// by side: the spec time limit, publishing an annotated index, reproducible digests, `noCache`,
// `withUser`, and what happens to builds that ask for no network.
//
// The engine is found as test/dagger-real.test.ts finds it: scripts/test.sh exports it as
// AIRBYTE_CI_DAGGER_RUNNER_HOST / AIRBYTE_CI_DAGGER_CLI_BIN (or the SDK's own variables are set, as
// `. .local/dagger-engine.env` sets them). Outside CI, without an engine, the file is reported
// skipped; with CI=true a missing engine FAILS it.
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageRecipe, formatImageAddress } from "@airbyte-ci/base-images";
import type { Platform } from "@airbyte-ci/base-images";
import { verifySpec } from "../src/inspect/spec.ts";
import { pipIndexSecrets, withPipIndex } from "../src/connector/pip-index.ts";
import { DaggerEngine } from "../src/engines/dagger/dagger-engine.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import type { BuiltImage, Engine } from "../src/engines/engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { publishReproducible, withSourceDateEpoch } from "../src/supply-chain/reproducible.ts";
import { localCatalog, pipIndexUrl, runCli, stageExample, uniqueTag } from "./helpers.ts";
import { recipeFromPublishedBase, stageConnector, uniqueName } from "./helpers/supply-chain.ts";
import { ENGINE_PRESENT, IN_CI, DAGGER_ENV, NO_ENGINE } from "./helpers/dagger-engine.ts";

const suite = ENGINE_PRESENT || IN_CI ? describe : describe.skip;

const EPOCH = 1_700_000_000;
let dagger: DaggerEngine;
const docker = new DockerEngine();
const engines = (): Array<[string, Engine]> => [["docker", docker], ["dagger", dagger]];
const rootAddress = (platform: Platform = "linux/amd64") => formatImageAddress(localCatalog().get("1.0.0").rootImage(platform));

/** Command lines of the processes of this machine (the Dagger engine's containers run on it too) that contain `marker`. */
function processesWith(marker: string): string[] {
  return execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((line) => line.includes(marker) && !line.startsWith("ps "));
}

suite("Dagger at parity with Docker (real engines)", () => {
  beforeAll(async () => {
    if (!ENGINE_PRESENT) throw new Error(NO_ENGINE);
    dagger = new DaggerEngine();
    await dagger.client();
  }, 120_000);
  afterAll(async () => {
    await dagger?.close();
  });

  describe("spec time limit (--spec-timeout, RunOptions.timeoutMs)", () => {
    for (const name of ["docker", "dagger"] as const) {
      it(`${name}: a spec that never ends is stopped at the limit, fails, and leaves no process behind`, async () => {
        const engine = engines().find(([n]) => n === name)?.[1] as Engine;
        const marker = `never-ending-spec-${uniqueTag()}`;
        const recipe = ImageRecipe.empty().from(rootAddress()).withEntrypoint(["sh", "-c", `sleep 600; : ${marker}`, "spec-never-ends"]);
        const image = await engine.build({ recipe, platform: "linux/amd64" });
        const outcome = verifySpec(engine, image, 8_000).then(
          () => undefined,
          (error: unknown) => error,
        );
        // While it runs, the check below can see it: the process is there.
        let seen = false;
        for (let i = 0; i < 60 && !seen; i++) {
          seen = processesWith(marker).length > 0;
          if (!seen) await new Promise((r) => setTimeout(r, 250));
        }
        expect(seen, "the spec process was seen running").toBe(true);
        const error = await outcome;
        expect(error).toMatchObject({ code: "RUN_FAILED", message: expect.stringMatching(/\["spec"\] in .*did not finish within 8 s/) });
        expect(processesWith(marker)).toEqual([]);
      }, 300_000);
    }

    it("dagger: a run that ends within the limit answers as without one (output and exit code)", async () => {
      const image = await dagger.build({ recipe: ImageRecipe.empty().from(rootAddress()).withEntrypoint(["sh", "-c", 'echo "$0 $1"; echo warn >&2; exit 3', "entry"]), platform: "linux/amd64" });
      const limited = await dagger.run(image, ["x"], { useEntrypoint: true, timeoutMs: 60_000 });
      expect(limited).toEqual({ stdout: "entry x\n", stderr: "warn\n", exitCode: 3 });
      expect(await dagger.run(image, ["x"], { useEntrypoint: true })).toEqual(limited);
      expect(await dagger.run(image, ["sh", "-c", "echo plain"], { timeoutMs: 60_000 })).toEqual({ stdout: "plain\n", stderr: "", exitCode: 0 });
    }, 300_000);

    it("dagger: an image without coreutils timeout gets a clear error, not a spec failure", async () => {
      const image = await dagger.build({ recipe: ImageRecipe.empty().from(rootAddress()).withExec(["rm", "/usr/bin/timeout"]), platform: "linux/amd64" });
      await expect(dagger.run(image, ["true"], { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "RUN_FAILED", message: expect.stringMatching(/has no timeout command \(coreutils\)/) });
      expect((await dagger.run(image, ["true"])).exitCode).toBe(0);
    }, 300_000);

    it("the CLI: build --engine dagger --spec-timeout 5 fails the connector whose spec never ends", async () => {
      const dir = await stageExample("source-hello", { tag: uniqueTag() });
      const { appendFileSync } = await import("node:fs");
      appendFileSync(`${dir}/source_hello/__init__.py`, "\nimport time\nimport sys\nif sys.argv[1:2] == ['spec']:\n    time.sleep(600)\n");
      const cli = await runCli(["build", dir, "--catalog", "local", "--engine", "dagger", "--output", "none", "--spec-timeout", "5", "--pip-index-url", pipIndexUrl()], { env: DAGGER_ENV });
      expect(cli.exitCode, cli.stderr).toBe(1);
      expect(cli.stderr).toMatch(/\["spec"\] in the linux\/amd64 image did not finish within 5 s: the Dagger engine stopped it/);
    }, 900_000);
  });

  describe("publish: an annotated multi-platform index", () => {
    for (const name of ["docker", "dagger"] as const) {
      it(`${name}: the index carries the index annotations, each manifest its own, and every platform digest is reported`, async () => {
        const engine = engines().find(([n]) => n === name)?.[1] as Engine;
        const platforms: Platform[] = ["linux/amd64", "linux/arm64"];
        const images: BuiltImage[] = [];
        for (const platform of platforms) {
          images.push(await engine.build({ recipe: ImageRecipe.empty().from(rootAddress(platform)).withLabel("io.airbyte-ci.test", `parity-${name}`), platform }));
        }
        const repo = `127.0.0.1:5000/dagger-parity/${uniqueName(name)}`;
        const annotations = {
          index: { "org.opencontainers.image.base.name": `index-of-${name}`, "io.airbyte-ci.test": "index" },
          platforms: { "linux/amd64": { "io.airbyte-ci.test": "amd64" }, "linux/arm64": { "io.airbyte-ci.test": "arm64" } },
        };
        const published = await engine.publish(images, `${repo}:1.0.0`, { annotations });
        const registry = new RegistryClient();
        const index = await registry.getManifest(`${repo}:1.0.0`);
        expect(index.digest).toBe(published.digest);
        expect(published.address).toBe(`${repo}:1.0.0@${index.digest}`);
        if (index.kind !== "index") throw new Error(`expected an index at ${repo}:1.0.0, got a ${index.kind}`);
        expect(index.manifest.annotations).toEqual(annotations.index);
        expect(index.manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(platforms);
        for (const platform of platforms) {
          const entry = index.manifest.manifests.find((m) => `${m.platform?.os}/${m.platform?.architecture}` === platform);
          expect(published.platformDigests[platform]).toBe(entry?.digest);
          const manifest = await registry.getManifest(`${repo}@${entry?.digest}`);
          if (manifest.kind !== "manifest") throw new Error("expected a manifest");
          expect(manifest.manifest.annotations?.["io.airbyte-ci.test"]).toBe(platform === "linux/amd64" ? "amd64" : "arm64");
          const config = await registry.getConfig(repo, manifest.manifest.config.digest);
          expect((config.config as { Labels?: Record<string, string> } | undefined)?.Labels?.["io.airbyte-ci.test"]).toBe(`parity-${name}`);
          expect(`${config.os}/${config.architecture}`).toBe(platform);
        }
      }, 600_000);
    }
  });

  describe("reproducible digests and noCache", () => {
    it("dagger: two builds with noCache are two images; published through the normaliser they are one digest", async () => {
      const catalog = localCatalog();
      const base = catalog.get("1.0.0");
      const dir = stageConnector("source-hello", base.publishedAddress as string, "0.1.0");
      const pipIndex = { indexUrl: pipIndexUrl() };
      const recipe = withSourceDateEpoch(withPipIndex(await recipeFromPublishedBase(dir, catalog, "linux/amd64"), pipIndex), EPOCH);
      const request = { recipe, platform: "linux/amd64" as const, contextDir: dir, secrets: pipIndexSecrets(pipIndex), noCache: true };
      const first = await dagger.build(request);
      const second = await dagger.build(request);
      // Two real builds: the engine's own images differ (file times in the connector's layers)…
      const repo = `127.0.0.1:5000/dagger-parity/${uniqueName("reproducible")}/source-hello`;
      const plainA = await dagger.publish([first], `${repo}:plain-a`);
      const plainB = await dagger.publish([second], `${repo}:plain-b`);
      expect(plainB.platformDigests["linux/amd64"]).not.toBe(plainA.platformDigests["linux/amd64"]);
      // …and the image keeps no trace of the build-time cache buster.
      expect(Object.keys((await dagger.inspect(second)).env)).not.toContain("AIRBYTE_CI_NO_CACHE");
      // Published through the normaliser, they are one.
      const a = await publishReproducible(dagger, [first], `${repo}:a`, { epoch: EPOCH, baseAddress: base.publishedAddress as string });
      const b = await publishReproducible(dagger, [second], `${repo}:b`, { epoch: EPOCH, baseAddress: base.publishedAddress as string });
      expect(b.digest).toBe(a.digest);
      expect(b.platformDigests).toEqual(a.platformDigests);
      // The image works.
      const pulled = await dagger.resolveImage(`${repo}@${a.platformDigests["linux/amd64"]}`);
      expect((await verifySpec(dagger, pulled.image)).spec).toBe(true);
    }, 1_200_000);

    it("the CLI: build --engine dagger --reproducible publishes through the normaliser (times from SOURCE_DATE_EPOCH)", async () => {
      const dir = await stageExample("source-hello", { tag: "0.3.0" });
      const prefix = `127.0.0.1:5000/dagger-parity/${uniqueName("cli")}`;
      const run = await runCli(["build", dir, "--catalog", "local", "--engine", "dagger", "--output", `registry:${prefix}`, "--reproducible", "--json", "--pip-index-url", pipIndexUrl()], {
        env: { SOURCE_DATE_EPOCH: String(EPOCH), ...DAGGER_ENV },
      });
      expect(run.exitCode, run.stderr).toBe(0);
      const [result] = JSON.parse(run.stdout) as Array<{ output: { reference: string; digest: string }; platforms: Array<{ digest?: string }> }>;
      const digest = result?.platforms[0]?.digest as string;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const registry = new RegistryClient();
      const repo = `${prefix}/airbyte/source-hello`;
      const manifest = await registry.getManifest(`${repo}@${digest}`);
      if (manifest.kind !== "manifest") throw new Error("expected a manifest");
      const config = await registry.getConfig(repo, manifest.manifest.config.digest);
      expect(config.created).toBe("2023-11-14T22:13:20Z");
      // Dagger rewrites the base's history entries (one per imported layer, stamped when it pulled the
      // base): they are stamped SOURCE_DATE_EPOCH too, like the connector's.
      const history = config.history as Array<{ created?: string }>;
      expect(history.length).toBeGreaterThan(4);
      expect(history.filter((h) => h.created !== "2023-11-14T22:13:20Z")).toEqual([]);
    }, 1_200_000);
  });

  describe("builds without network (BuildRequest.network none, --offline)", () => {
    let server: Server;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections += 1;
        socket.end("hello\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const probe = () =>
      ImageRecipe.empty()
        .from(rootAddress())
        .withExec(["python3", "-c", `import socket; socket.create_connection(("127.0.0.1", ${port}), timeout=5).recv(16); print("reached") # ${uniqueTag()}`]);

    it("docker: a step reaches a loopback listener of the host by default, and nothing with network none", async () => {
      const before = connections;
      await docker.build({ recipe: probe(), platform: "linux/amd64" });
      expect(connections).toBe(before + 1);
      const error = await docker.build({ recipe: probe(), platform: "linux/amd64", network: "none" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BUILD_FAILED", message: expect.stringMatching(/Network is unreachable|Connection refused/) });
      expect(connections).toBe(before + 1);
    }, 300_000);

    it("dagger: a build asking for no network is refused (USAGE) and nothing runs; the CLI refuses --offline with exit 2", async () => {
      const before = connections;
      const error = await dagger.build({ recipe: probe(), platform: "linux/amd64", network: "none" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "USAGE", message: expect.stringMatching(/the Dagger engine cannot build without network.*--engine docker/) });
      expect(connections).toBe(before);
      const dir = await stageExample("source-hello", { tag: uniqueTag() });
      const cli = await runCli(["build", dir, "--catalog", "local", "--engine", "dagger", "--offline", "--wheelhouse", dir], { env: DAGGER_ENV });
      expect(cli.exitCode, cli.stderr).toBe(2);
      expect(cli.stderr).toMatch(/--offline on the dagger engine: .*use --engine docker/);
      expect(cli.stderr).not.toMatch(/building linux/);
    }, 300_000);
  });

  describe("withUser", () => {
    for (const name of ["docker", "dagger"] as const) {
      it(`${name}: later steps, runs and the image config use the recipe's user`, async () => {
        const engine = engines().find(([n]) => n === name)?.[1] as Engine;
        const recipe = ImageRecipe.empty().from(rootAddress()).withUser("nobody").withExec(["sh", "-c", "id -un > /tmp/built-by"]);
        const image = await engine.build({ recipe, platform: "linux/amd64" });
        expect((await engine.run(image, ["cat", "/tmp/built-by"])).stdout).toBe("nobody\n");
        expect((await engine.run(image, ["id", "-u"])).stdout).toBe("65534\n");
        expect((await engine.inspect(image)).user).toBe("nobody");
      }, 300_000);
    }
  });
});
