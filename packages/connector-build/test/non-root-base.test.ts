// Base image 2.0.0 for real: a connector built on the local 2.0.0 (Docker engine, dependencies through
// the PyPI proxy) runs as airbyte, uid 1000, and answers spec; a hook running steps as root still
// leaves the image non-root. And the Python 3.9 line of the fixture: a connector builds and answers
// spec on it. The bases are published by the test command's setup (scripts/test.sh →
// AIRBYTE_CI_TEST_BASES=1 scripts/bootstrap.sh).
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseCatalog, type BaseImageCatalog } from "@airbyte-ci/base-images";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { FIXTURE_DIR, LOCAL_CATALOG, REPO_ROOT, localCatalog, runCli, uniqueTag } from "./helpers.ts";

const DOCKER = "/usr/bin/docker";
const PY39_CATALOG = join(FIXTURE_DIR, "catalog-py3.9.json");
const built: string[] = [];

afterAll(async () => {
  if (built.length > 0) await promisify(execFile)(DOCKER, ["rmi", "--force", ...built]).catch(() => undefined);
});

async function docker(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(DOCKER, args, { maxBuffer: 16 << 20, timeout: 300_000 });
  return stdout.trim();
}

function publishedVersion(catalog: BaseImageCatalog, path: string, version: string): void {
  if (!catalog.find(version)?.publishedAddress) {
    throw new Error(`${path}: base ${version} is not published: scripts/test.sh publishes it (AIRBYTE_CI_TEST_BASES=1 scripts/bootstrap.sh)`);
  }
}

/** Copies source-hello with a unique tag and an optional build_customization.ts, moves it to `version` with bump-base, builds it into the local Docker. */
async function buildHello(catalogPath: string, version: string, customization?: string): Promise<{ image: string; bumpStderr: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), "non-root-")), "source-hello");
  cpSync(join(REPO_ROOT, "examples/source-hello"), dir, { recursive: true });
  const tag = uniqueTag();
  writeFileSync(join(dir, "metadata.yaml"), readFileSync(join(dir, "metadata.yaml"), "utf8").replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
  if (customization) writeFileSync(join(dir, "build_customization.ts"), `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization(${customization});\n`);
  const bump = await runCli(["bump-base", dir, "--catalog", catalogPath, "--to", version]);
  expect(bump.exitCode, bump.stderr).toBe(0);
  const build = await runCli(["build", dir, "--catalog", catalogPath, "--output", "docker"]);
  expect(build.exitCode, build.stderr).toBe(0);
  const image = `airbyte/source-hello:${tag}`;
  built.push(image);
  return { image, bumpStderr: bump.stderr };
}

async function spec(image: string): Promise<Record<string, unknown>> {
  const lines = (await docker(["run", "--rm", image, "spec"])).split("\n").filter((l) => l.startsWith("{"));
  const message = lines.map((l) => JSON.parse(l) as { type: string; spec?: Record<string, unknown> }).find((m) => m.type === "SPEC");
  expect(message?.spec, `no SPEC message from ${image}`).toBeDefined();
  return message?.spec ?? {};
}

describe("base 2.0.0: connectors run as airbyte (uid 1000)", () => {
  it("source-hello builds on the local 2.0.0, runs as uid 1000 and answers spec; bump-base says the user changes", async () => {
    publishedVersion(localCatalog(), LOCAL_CATALOG, "2.0.0");
    const { image, bumpStderr } = await buildHello(LOCAL_CATALOG, "2.0.0");
    expect(bumpStderr).toMatch(/base 2\.0\.0 runs the connector as airbyte/);
    expect(await docker(["run", "--rm", "--entrypoint", "id", image, "-u"])).toBe("1000");
    expect(await docker(["run", "--rm", "--entrypoint", "id", image, "-un"])).toBe("airbyte");
    expect(await docker(["image", "inspect", "--format", "{{.Config.User}}", image])).toBe("airbyte");
    expect(await docker(["run", "--rm", "--entrypoint", "sh", image, "-c", 'echo "$HOME"; touch /tmp/x "$HOME/x" && echo writable'])).toBe("/home/airbyte\nwritable");
    // The code and the installed package are root's, readable by airbyte, not writable by it.
    expect(await docker(["run", "--rm", "--entrypoint", "sh", image, "-c", "test -w /airbyte/integration_code/main.py && echo writable || echo read-only"])).toBe("read-only");
    expect(JSON.stringify(await spec(image))).toContain("connectionSpecification");
  }, 900_000);

  it("hooks run install steps as root (one switching to root explicitly) and the image still runs as uid 1000", async () => {
    const { image } = await buildHello(
      LOCAL_CATALOG,
      "2.0.0",
      `{
        preConnectorInstall: (r) => r.withUser("root").withExec(["sh", "-c", "id -u > /usr/local/share/pre-uid"]),
        postConnectorInstall: (r) => r.withExec(["sh", "-c", "id -u > /usr/local/share/post-uid && umask 077 && echo private > /airbyte/integration_code/hook-file"]),
      }`,
    );
    // Both steps ran as root (they write where only root may), the image runs as 1000, and a file the hook
    // left unreadable was made readable for the connector's user.
    expect(await docker(["run", "--rm", "--entrypoint", "sh", image, "-c", "cat /usr/local/share/pre-uid /usr/local/share/post-uid; id -u; cat /airbyte/integration_code/hook-file"])).toBe("0\n0\n1000\nprivate");
    expect(JSON.stringify(await spec(image))).toContain("connectionSpecification");
  }, 900_000);
});

describe("the Python 3.9 line of the fixture (Debian bullseye's python3.9)", () => {
  it("its root image is recorded by digest and its catalog holds 1.1.0 and 2.0.0, published to their own repository", async () => {
    const root = JSON.parse(readFileSync(join(FIXTURE_DIR, "root-py3.9-amd64.json"), "utf8")) as { address: string; pythonVersion: string; digest: string };
    expect(root.pythonVersion).toBe("3.9.2");
    expect(root.address).toMatch(/^127\.0\.0\.1:5000\/python:3\.9-bullseye@sha256:[0-9a-f]{64}$/);
    const catalog = parseCatalog(JSON.parse(readFileSync(PY39_CATALOG, "utf8")), PY39_CATALOG);
    expect(catalog.repository).toBe("127.0.0.1:5000/airbyte/python-connector-base-py39");
    for (const version of ["1.1.0", "2.0.0"]) {
      const v = catalog.get(version);
      expect(v.rootImage("linux/amd64").digest).toBe(root.digest);
      expect(v.publishedAddress).toMatch(new RegExp(`^127\\.0\\.0\\.1:5000/airbyte/python-connector-base-py39:${version.replaceAll(".", "\\.")}@sha256:[0-9a-f]{64}$`));
      expect((await new RegistryClient().getManifest(v.publishedAddress as string)).kind).toBe("index");
    }
  });

  it("source-hello builds on the 3.9 base and answers spec with Python 3.9.2", async () => {
    if (!existsSync(PY39_CATALOG)) throw new Error(`${PY39_CATALOG} does not exist: scripts/test.sh writes it (AIRBYTE_CI_TEST_BASES=1 scripts/bootstrap.sh)`);
    const catalog = parseCatalog(JSON.parse(readFileSync(PY39_CATALOG, "utf8")), PY39_CATALOG);
    publishedVersion(catalog, PY39_CATALOG, "1.1.0");
    const { image } = await buildHello(PY39_CATALOG, "1.1.0");
    expect(await docker(["run", "--rm", "--entrypoint", "python", image, "--version"])).toBe("Python 3.9.2");
    expect(await docker(["image", "inspect", "--format", "{{index .Config.Labels \"org.opencontainers.image.base.name\"}}", image])).toBe(`${catalog.repository}:1.1.0`);
    expect(JSON.stringify(await spec(image))).toContain("connectionSpecification");
  }, 900_000);
});
