// Proving a migration: build the connector from its Dockerfile, migrate it, build it with the common
// build, compare the two images' behaviour.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { compareImages } from "../src/compare/compare-images.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { fixtureRoot, localCatalog, runCli, stageExample } from "./helpers.ts";

const engine = new DockerEngine();

describe("migrate a Dockerfile-built connector and prove nothing changed", () => {
  it("zendesk-chat: seed variant 3 Dockerfile → common build with a generated hook, same behaviour", async () => {
    // A patch number of this run: the migrated version (its patch bump) is unique too.
    const tag = `0.1.${Date.now() % 1_000_000_000}`;
    const dir = await stageExample("source-zendesk-chat", { tag });
    rmSync(join(dir, "build_customization.ts"));
    // The seed's variant 3, as source-zendesk-chat had it, on the local fixture root image
    // (pip without build isolation: no PyPI here).
    writeFileSync(
      join(dir, "Dockerfile"),
      [
        `FROM ${fixtureRoot("amd64").address}`,
        "# Bash is installed for more convenient debugging.",
        "RUN apt-get update && apt-get install -y bash && rm -rf /var/lib/apt/lists/*",
        "WORKDIR /airbyte/integration_code",
        "COPY setup.py ./",
        "RUN pip install --no-build-isolation .",
        "COPY source_zendesk_chat ./source_zendesk_chat",
        "COPY main_dev.py ./",
        "ENV AIRBYTE_IMPL_MODULE=source_zendesk_chat AIRBYTE_IMPL_PATH=SourceZendeskChat",
        'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main_dev.py"',
        'ENTRYPOINT ["python", "/airbyte/integration_code/main_dev.py"]',
        `LABEL io.airbyte.version=${tag}`,
        "LABEL io.airbyte.name=airbyte/source-zendesk-chat",
        "",
      ].join("\n"),
    );
    const before = `airbyte/source-zendesk-chat:${tag}-dockerfile`;
    execFileSync("/usr/bin/docker", ["build", "--network", "host", "-q", "-t", before, dir], { env: { ...process.env, DOCKER_BUILDKIT: "1" } });

    const dry = await runCli(["migrate", dir, "--catalog", "local", "--dry-run"], { cwd: join(import.meta.dirname, "../../..") });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('+  mainFileName: "main_dev.py",');
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);

    const migrated = await runCli(["migrate", dir, "--catalog", "local", "--json"], { cwd: join(import.meta.dirname, "../../..") });
    expect(migrated.exitCode).toBe(0);
    const { connectors } = JSON.parse(migrated.stdout) as { connectors: Array<{ outcome: string; plan: { newVersion: string } }> };
    expect(connectors.map((c) => c.outcome)).toEqual(["migrated"]);
    const plan = connectors[0]?.plan as { newVersion: string };
    expect(existsSync(join(dir, "Dockerfile"))).toBe(false);
    expect(readFileSync(join(dir, "build_customization.ts"), "utf8")).toContain('.withEnvVariable("AIRBYTE_IMPL_MODULE", "source_zendesk_chat")');
    const newTag = plan.newVersion;
    expect(newTag).toBe(`0.1.${Number(tag.split(".")[2]) + 1}`);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).toContain(`dockerImageTag: ${newTag}`);

    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" } });
    expect(result?.error).toBeUndefined();
    const after = `airbyte/source-zendesk-chat:${newTag}`;

    const comparison = await compareImages(engine, before, after);
    // Behaviour is the same: entrypoint, workdir, Python, pip, system packages, installed
    // distributions (Poetry lives in its own venv) and spec. migrate moved the connector to the latest
    // published base (1.1.0, or 2.0.0 where the test setup published it), whose only visible additions
    // are Poetry's environment and the labels, and on 2.0.0 its user (airbyte) with that user's HOME.
    const target = localCatalog().latestStable()?.version;
    const nonRoot = target === "2.0.0";
    expect(comparison.differences.map((d) => d.aspect)).toEqual(nonRoot ? ["env", "user", "labels"] : ["env", "labels"]);
    const [env, user] = comparison.differences;
    const labels = comparison.differences.at(-1);
    if (nonRoot) expect(user).toEqual({ aspect: "user", kind: "changed", a: "", b: "airbyte" });
    expect(env?.kind).toBe("entries");
    if (env?.kind === "entries") {
      expect(env.removed).toEqual({});
      expect(env.changed).toEqual(nonRoot ? { HOME: { a: "/root", b: "/home/airbyte" } } : {});
      expect(env.added).toEqual({ POETRY_HOME: "/opt/poetry", POETRY_NO_INTERACTION: "1", POETRY_VIRTUALENVS_CREATE: "false" });
    }
    expect(labels?.kind).toBe("entries");
    if (labels?.kind === "entries") {
      expect(labels.removed).toEqual({});
      expect(labels.changed).toEqual({ "io.airbyte.version": { a: tag, b: newTag } });
      expect(Object.keys(labels.added).sort()).toEqual([
        "io.airbyte.base-image.version",
        "org.opencontainers.image.base.digest",
        "org.opencontainers.image.base.name",
        "org.opencontainers.image.title",
        "org.opencontainers.image.version",
      ]);
      expect(labels.added["org.opencontainers.image.base.name"]).toBe(`${localCatalog().repository}:${target}`);
    }
  }, 600_000);
});
