import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { DockerEngine, inspectDockerImage } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { localCatalog, pipIndexUrl, runCli, stageExample, uniqueTag } from "./helpers.ts";

const DOCKER = "/usr/bin/docker";
const engine = new DockerEngine();

function imageExists(ref: string): boolean {
  try {
    execFileSync(DOCKER, ["image", "inspect", ref], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function spec(ref: string): { type: string; spec: { connectionSpecification: unknown } } {
  const out = execFileSync(DOCKER, ["run", "--rm", ref, "spec"]).toString();
  return JSON.parse(out.trim().split("\n").find((l) => l.startsWith("{")) as string);
}

describe("common Python build of the examples (real Docker)", () => {
  it("builds source-hello from its metadata, verifies spec and loads it into Docker", async () => {
    const tag = uniqueTag();
    const dir = await stageExample("source-hello", { tag });
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" } });
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe("success");
    expect(result?.platforms[0]?.verification.spec).toBe(true);
    const ref = `airbyte/source-hello:${tag}`;
    expect(spec(ref).type).toBe("SPEC");
    const config = await inspectDockerImage(ref);
    expect(config.entrypoint).toEqual(["python", "/airbyte/integration_code/main.py"]);
    expect(config.env.AIRBYTE_ENTRYPOINT).toBe("python /airbyte/integration_code/main.py");
    expect(config.workdir).toBe("/airbyte/integration_code");
    expect(config.labels["io.airbyte.version"]).toBe(tag);
    expect(config.labels["io.airbyte.name"]).toBe("airbyte/source-hello");
    expect(config.labels["org.opencontainers.image.title"]).toBe("airbyte/python-connector-base");
    // check, discover and read answer from the image too
    const check = execFileSync(DOCKER, ["run", "--rm", "-v", `${join(dir, "secrets")}:/s`, "--entrypoint", "sh", ref, "-c",
      "echo '{\"greeting\":\"hi\",\"count\":2}' > /tmp/c.json && echo '{\"streams\":[{\"stream\":{\"name\":\"greetings\"}}]}' > /tmp/k.json && python main.py check --config /tmp/c.json && python main.py discover --config /tmp/c.json && python main.py read --config /tmp/c.json --catalog /tmp/k.json"]).toString();
    const types = check.trim().split("\n").map((l) => JSON.parse(l).type);
    expect(types).toEqual(["CONNECTION_STATUS", "CATALOG", "RECORD", "RECORD"]);
  });

  it("builds the zendesk-chat example with its hooks: main_dev.py and the CDK env vars", async () => {
    const tag = uniqueTag();
    const dir = await stageExample("source-zendesk-chat", { tag });
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" } });
    expect(result?.error).toBeUndefined();
    const ref = `airbyte/source-zendesk-chat:${tag}`;
    const config = await inspectDockerImage(ref);
    expect(config.entrypoint).toEqual(["python", "/airbyte/integration_code/main_dev.py"]);
    expect(config.env.AIRBYTE_ENTRYPOINT).toBe("python /airbyte/integration_code/main_dev.py");
    expect(config.env.AIRBYTE_IMPL_MODULE).toBe("source_zendesk_chat");
    expect(config.env.AIRBYTE_IMPL_PATH).toBe("SourceZendeskChat");
    expect(spec(ref).spec.connectionSpecification).toMatchObject({ required: ["start_date"] });
  });

  it("a code-only change reuses the dependency install layer (from the build's cache report)", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    const setup = join(dir, "setup.py");
    // A dependency set no other build on this (shared) daemon has: the first install cannot be cached.
    const marker = `${Date.now()}-${process.pid}`;
    writeFileSync(setup, readFileSync(setup, "utf8").replace("MAIN_REQUIREMENTS = []", `MAIN_REQUIREMENTS = ['six==1.16.0 ; platform_machine != "a${marker}"']`));
    const catalog = localCatalog();
    const options = { engine, catalog, platforms: ["linux/amd64" as const], output: { kind: "none" as const }, pipIndex: { indexUrl: pipIndexUrl() } };
    const first = await buildConnectors([dir], options);
    expect(first[0]?.status).toBe("success");
    const installOf = (result: (typeof first)[number] | undefined) => {
      const steps = result?.platforms[0]?.cache?.steps ?? [];
      // The first RUN of a connector build is its dependency install: the base recipe is not replayed.
      return { install: steps.find((s) => s.op === "withExec"), code: steps.find((s) => s.op === "withDirectory") };
    };
    expect(installOf(first[0]).install).toMatchObject({ cached: false });
    appendFileSync(join(dir, "source_hello/source.py"), `\n# code-only change ${Date.now()}\n`);
    const second = installOf((await buildConnectors([dir], options))[0]);
    expect(second.install).toMatchObject({ cached: true });
    expect(second.code).toMatchObject({ cached: false });
    // setup.py changed but not its dependencies: the dependency layer is still reused (its input is the set, not the file)
    writeFileSync(setup, readFileSync(setup, "utf8").replace('description="', `description="changed ${marker}: `));
    expect(installOf((await buildConnectors([dir], options))[0]).install).toMatchObject({ cached: true });
    // and a dependency change does re-run the install
    writeFileSync(setup, readFileSync(setup, "utf8").replace(`"a${marker}"`, `"b${marker}"`));
    const changed = await buildConnectors([dir], options);
    expect(changed[0]?.status).toBe("success");
    expect(installOf(changed[0]).install).toMatchObject({ cached: false });
  }, 300_000);

  it("builds linux/amd64 and linux/arm64 and publishes one index to the registry", async () => {
    const tag = uniqueTag();
    const dir = await stageExample("source-hello", { tag });
    const [result] = await buildConnectors([dir], {
      engine,
      catalog: localCatalog(),
      platforms: ["linux/amd64", "linux/arm64"],
      output: { kind: "registry", prefix: "127.0.0.1:5000/test-connectors" },
    });
    expect(result?.error).toBeUndefined();
    expect(result?.platforms.map((p) => p.verification.spec)).toEqual([true, true]);
    const client = new RegistryClient();
    const index = await client.getManifest(`127.0.0.1:5000/test-connectors/airbyte/source-hello:${tag}`);
    expect(index.kind).toBe("index");
    expect(index.digest).toBe(result?.output?.digest);
    if (index.kind === "index") {
      expect(index.manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    }
  }, 600_000);

  it("writes an OCI tarball", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    const out = join(dir, "..", "hello.oci.tar");
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "oci", path: out } });
    expect(result?.status).toBe("success");
    const index = JSON.parse(execFileSync("tar", ["-xOf", out, "./index.json"]).toString());
    expect(index.manifests[0].platform.architecture).toBe("amd64");
  });
});

describe("refused inputs: a clear error naming the place, nothing built or output", () => {
  async function expectRefused(mutate: (dir: string) => void, message: RegExp, code: string) {
    const tag = uniqueTag();
    const dir = await stageExample("source-zendesk-chat", { tag });
    mutate(dir);
    const cli = await runCli(["build", dir, "--catalog", join(process.cwd(), "../../.local/fixture/catalog.json"), "--json"]);
    expect(cli.exitCode).not.toBe(0);
    const [result] = JSON.parse(cli.stdout);
    expect(result.status).toBe("failed");
    expect(result.error.code).toBe(code);
    expect(result.error.message).toMatch(message);
    expect(cli.stderr).toMatch(/connector-build: error: /);
    expect(imageExists(`airbyte/source-zendesk-chat:${tag}`)).toBe(false);
  }
  const meta = (dir: string) => join(dir, "metadata.yaml");
  const editMeta = (dir: string, from: RegExp, to: string) => writeFileSync(meta(dir), readFileSync(meta(dir), "utf8").replace(from, to));

  it("missing baseImage", () =>
    expectRefused((d) => editMeta(d, /\n\s+connectorBuildOptions:\n\s+baseImage: .*/, ""), /metadata\.yaml: data\.connectorBuildOptions\.baseImage is missing/, "INVALID_METADATA"));
  it("tag-only baseImage", () =>
    expectRefused((d) => editMeta(d, /baseImage: .*/, "baseImage: 127.0.0.1:5000/airbyte/python-connector-base:1.0.0"), /baseImage: .*is a tag-only reference/, "INVALID_IMAGE_ADDRESS"));
  it("unknown base image", () =>
    expectRefused((d) => editMeta(d, /baseImage: .*/, `baseImage: 127.0.0.1:5000/airbyte/python-connector-base:9.9.9@sha256:${"9".repeat(64)}`), /not a published version/, "UNKNOWN_BASE_IMAGE"));
  it("missing dockerImageTag", () => expectRefused((d) => editMeta(d, /\s+dockerImageTag: .*/, ""), /dockerImageTag/, "INVALID_METADATA"));
  it("missing main file", () => expectRefused((d) => rmSync(join(d, "main_dev.py")), /main file .*main_dev\.py does not exist/, "INVALID_CONNECTOR"));
  it("missing package directory", () =>
    expectRefused((d) => rmSync(join(d, "source_zendesk_chat"), { recursive: true }), /package directory .*source_zendesk_chat does not exist/, "INVALID_CONNECTOR"));
  it("hook file with a syntax error", () =>
    expectRefused((d) => writeFileSync(join(d, "build_customization.ts"), "export default {{{ nope"), /connector source-zendesk-chat: cannot load .*build_customization\.ts/, "HOOK_FAILED"));
  it("hook that throws", () =>
    expectRefused(
      (d) => writeFileSync(join(d, "build_customization.ts"), 'import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({ mainFileName: "main_dev.py", preConnectorInstall: () => { throw new Error("no token"); } });\n'),
      /connector source-zendesk-chat: .*build_customization\.ts: hook preConnectorInstall threw: no token/,
      "HOOK_FAILED",
    ));
  it("hook that returns something other than a recipe", () =>
    expectRefused(
      (d) => {
        rmSync(join(d, "build_customization.ts"));
        writeFileSync(join(d, "build_customization.mjs"), 'export default { mainFileName: "main_dev.py", postConnectorInstall: async (r) => ({ ...r }) };\n');
      },
      /hook postConnectorInstall returned an object.*expected the recipe/,
      "HOOK_FAILED",
    ));
  it("hook reaching outside the build context", () =>
    expectRefused(
      (d) => writeFileSync(join(d, "build_customization.ts"), 'import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({ mainFileName: "main_dev.py", postConnectorInstall: (r) => r.withFile("/etc/stolen", "../../../etc/passwd") });\n'),
      /reaches outside the build context/,
      "HOOK_FAILED",
    ));
  it("a spec that does not answer fails verification and outputs nothing", () =>
    expectRefused((d) => writeFileSync(join(d, "main_dev.py"), "print('not json')\n"), /printed no JSON line with "type": "SPEC"/, "VERIFICATION_FAILED"));

  it("a missing connector folder is a usage error", async () => {
    const cli = await runCli(["build", "/nonexistent/source-x"]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/\/nonexistent\/source-x is not a directory/);
    expect(existsSync("/nonexistent")).toBe(false);
  });
});

describe("poetry projects (pyproject.toml + poetry.lock)", () => {
  it("installs a locked path dependency (a local wheel) on base 1.1.0 and answers spec", async () => {
    const { cpSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { setBaseImageInYaml } = await import("../src/connector/metadata-edit.ts");
    const dir = join(mkdtempSync(join(tmpdir(), "connector-")), "source-poetry-hello");
    cpSync(join(import.meta.dirname, "__fixtures__/connectors/source-poetry-hello"), dir, { recursive: true });
    const tag = uniqueTag();
    const meta = join(dir, "metadata.yaml");
    writeFileSync(meta, setBaseImageInYaml(readFileSync(meta, "utf8"), localCatalog().get("1.1.0").publishedAddress as string).replace("dockerImageTag: 0.1.0", `dockerImageTag: ${tag}`));
    // The dependency (a local wheel) needs no index; the installer (uv) and the package's build backend (poetry-core) come from the build's index.
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" }, pipIndex: { indexUrl: pipIndexUrl() } });
    expect(result?.error).toBeUndefined();
    const ref = `airbyte/source-poetry-hello:${tag}`;
    expect(spec(ref).spec.connectionSpecification).toMatchObject({ description: "hello from poetry" });
    const pip = execFileSync(DOCKER, ["run", "--rm", "--entrypoint", "python", ref, "-m", "pip", "show", "greeting"]).toString();
    expect(pip).toMatch(/Version: 1\.2\.3/);
  }, 300_000);
});
