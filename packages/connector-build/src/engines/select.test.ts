import { afterEach, describe, expect, it } from "vitest";
import { resetDockerClientCache } from "./docker/docker-client.ts";
import { selectEngine } from "./select.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  resetDockerClientCache();
});

describe("--engine selection", () => {
  it("auto picks Docker when no Dagger session or CLI is present", async () => {
    delete process.env.DAGGER_SESSION_PORT;
    delete process.env.DAGGER_SESSION_TOKEN;
    delete process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST;
    process.env.PATH = "/usr/bin:/bin";
    expect((await selectEngine("auto")).name).toBe("docker");
  });

  it("auto picks Dagger when a session is present", async () => {
    process.env.DAGGER_SESSION_PORT = "1";
    process.env.DAGGER_SESSION_TOKEN = "t";
    const engine = await selectEngine("auto");
    expect(engine.name).toBe("dagger");
    await engine.close();
  });

  it("auto with neither engine usable: one error naming everything looked for", async () => {
    delete process.env.DAGGER_SESSION_PORT;
    delete process.env.DAGGER_SESSION_TOKEN;
    delete process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST;
    process.env.PATH = "/nonexistent";
    process.env.DOCKER_CLI = "/nonexistent/docker";
    resetDockerClientCache();
    await expect(selectEngine("auto")).rejects.toThrowError(
      /--engine auto: no usable engine: looked for a Dagger session .*a `dagger` CLI on PATH, and a Docker client with BuildKit and a running daemon .*\/nonexistent\/docker: not found/,
    );
  });

  it("--engine dagger without a session or CLI says what was looked for", async () => {
    delete process.env.DAGGER_SESSION_PORT;
    delete process.env.DAGGER_SESSION_TOKEN;
    process.env.PATH = "/nonexistent";
    await expect(selectEngine("dagger")).rejects.toThrowError(/no Dagger session \(DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN.*and no `dagger` CLI on PATH/);
  });
});
