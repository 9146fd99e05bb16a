// The real engine is exercised in test/dagger-real.test.ts. What is left here needs no engine (the pure
// lowering, discovery) or is an error path a real engine cannot be made to take: a session refusing
// the token, a step echoing a secret value the engine would have masked itself (so our own scrubbing
// shows), and refusals that must happen before any request reaches the engine. Those run through the
// real SDK against test/dagger/fake-dagger-session.ts, a recording GraphQL endpoint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../../errors.ts";
import { FakeDaggerSession } from "../../../test/dagger/fake-dagger-session.ts";

import { DaggerEngine, daggerCliAvailable, daggerSessionAvailable } from "./dagger-engine.ts";
import { daggerCallsFor, loopbackTunnels } from "./lowering.ts";
import { withTimeout } from "./run.ts";

const BASE = `docker.io/library/python:3.11-slim@sha256:${"1".repeat(64)}`;
const SECRET_VALUE = "s3cr3t-index-token-do-not-leak";
/** Quotes, a newline and `$` must reach the engine literally. */
const VERSION_FILE = 'version = "1.2.3", "a":1\n$HOME stays literal\n';

/** A recipe using every operation kind, a cache mount and a secret. */
function everyOperation(): ImageRecipe {
  return ImageRecipe.empty()
    .from(BASE)
    .withEnvVariable("LANG", "C.UTF-8")
    .withWorkdir("/airbyte/integration_code")
    .withFile("main.py", "main.py", { permissions: 0o755 })
    .withDirectory("source_demo", "source_demo")
    .withNewFile("/airbyte/integration_code/VERSION", VERSION_FILE, { permissions: 0o644 })
    .withMountedCache("/root/.cache/pip", "pip-cache", { sharing: "locked" })
    .withSecretVariable("PIP_INDEX_TOKEN", "pypi-token")
    .withExec(["pip", "install", "--no-index", "."])
    .withoutMount("/root/.cache/pip")
    .withLabel("io.airbyte.version", "1.2.3")
    .withUser("airbyte")
    .withEntrypoint(["python", "/airbyte/integration_code/main.py"])
    .withDefaultArgs(["spec"]);
}

describe("daggerCallsFor", () => {
  it("lowers each operation to one Dagger call, secrets by name only", () => {
    const calls = daggerCallsFor(everyOperation(), "linux/arm64");
    expect(calls).toEqual([
      { field: "container", args: { platform: "linux/arm64" } },
      { field: "from", args: { address: BASE } },
      { field: "withEnvVariable", args: { name: "LANG", value: "C.UTF-8" } },
      { field: "withWorkdir", args: { path: "/airbyte/integration_code" } },
      { field: "withFile", args: { path: "main.py", source: { hostFile: "main.py" }, permissions: 0o755 } },
      { field: "withDirectory", args: { path: "source_demo", source: { hostDirectory: "source_demo" } } },
      { field: "withNewFile", args: { path: "/airbyte/integration_code/VERSION", contents: VERSION_FILE, permissions: 0o644 } },
      { field: "withMountedCache", args: { path: "/root/.cache/pip", cache: { cacheVolume: "pip-cache" }, sharing: "LOCKED" } },
      { field: "withSecretVariable", args: { name: "PIP_INDEX_TOKEN", secret: { secret: "pypi-token" } } },
      { field: "withExec", args: { args: ["pip", "install", "--no-index", "."] } },
      { field: "withoutMount", args: { path: "/root/.cache/pip" } },
      { field: "withLabel", args: { name: "io.airbyte.version", value: "1.2.3" } },
      { field: "withUser", args: { name: "airbyte" } },
      { field: "withEntrypoint", args: { args: ["python", "/airbyte/integration_code/main.py"] } },
      { field: "withDefaultArgs", args: { args: ["spec"] } },
    ]);
    expect(daggerCallsFor(everyOperation(), "linux/amd64", { contextDir: "/ctx" })[4]).toEqual({
      field: "withFile",
      args: { path: "main.py", source: { hostFile: "/ctx/main.py" }, permissions: 0o755 },
    });
  });
});

describe("withTimeout", () => {
  it("runs the argv under coreutils timeout: TERM at the limit, KILL 5 s later, what it sent on stderr", () => {
    expect(withTimeout(["python", "main.py", "spec"], 120_000)).toEqual(["timeout", "--verbose", "--kill-after=5s", "120s", "python", "main.py", "spec"]);
    expect(withTimeout(["true"], 1500)).toEqual(["timeout", "--verbose", "--kill-after=5s", "1.5s", "true"]);
  });
});

describe("loopbackTunnels", () => {
  it("rewrites loopback host:port in secrets to an alias a host service answers, and leaves the rest", () => {
    const { secrets, services } = loopbackTunnels({
      "pip-index-url": "http://127.0.0.1:3141/root/pypi/+simple/",
      "pip-extra-index-url": "http://localhost:8080/simple https://pypi.org/simple http://127.0.0.1:3142/x",
      "pip-trusted-host": "127.0.0.1:3141 localhost:8080 127.0.0.1:3142",
      token: "abc127.0.0.1:99", // not an address: part of a word
    });
    expect(secrets).toEqual({
      "pip-index-url": "http://airbyte-ci-loopback-1:3141/root/pypi/+simple/",
      "pip-extra-index-url": "http://airbyte-ci-loopback-2:8080/simple https://pypi.org/simple http://airbyte-ci-loopback-1:3142/x",
      "pip-trusted-host": "airbyte-ci-loopback-1:3141 airbyte-ci-loopback-2:8080 airbyte-ci-loopback-1:3142",
      token: "abc127.0.0.1:99",
    });
    expect(services).toEqual([
      { alias: "airbyte-ci-loopback-1", host: "127.0.0.1", ports: [3141, 3142] },
      { alias: "airbyte-ci-loopback-2", host: "localhost", ports: [8080] },
    ]);
    const untouched = { url: "https://pypi.org/simple" };
    expect(loopbackTunnels(untouched)).toEqual({ secrets: untouched, services: [] });
    expect(loopbackTunnels(undefined)).toEqual({ secrets: undefined, services: [] });
  });
});

describe("engine availability", () => {
  it("sees a session from DAGGER_SESSION_PORT + DAGGER_SESSION_TOKEN or a remote runner", () => {
    expect(daggerSessionAvailable({ DAGGER_SESSION_PORT: "1234", DAGGER_SESSION_TOKEN: "t" })).toBe(true);
    expect(daggerSessionAvailable({ DAGGER_SESSION_PORT: "1234" })).toBe(false);
    expect(daggerSessionAvailable({ _EXPERIMENTAL_DAGGER_RUNNER_HOST: "tcp://engine:1234" })).toBe(true);
    expect(daggerSessionAvailable({})).toBe(false);
  });
  it("looks for a dagger binary on PATH", () => {
    const dir = mkdtempSync(join(tmpdir(), "dagger-cli-"));
    try {
      expect(daggerCliAvailable({ PATH: dir })).toBe(false);
      writeFileSync(join(dir, "dagger"), "#!/bin/sh\n", { mode: 0o755 });
      expect(daggerCliAvailable({ PATH: dir })).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("DaggerEngine through the real SDK, against a recording GraphQL endpoint", () => {
  let fake: FakeDaggerSession;
  let context: string;
  let engine: DaggerEngine;
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(async () => {
    fake = await FakeDaggerSession.start();
    for (const name of ["DAGGER_SESSION_PORT", "DAGGER_SESSION_TOKEN"] as const) savedEnv[name] = process.env[name];
    Object.assign(process.env, fake.env);
    context = mkdtempSync(join(tmpdir(), "dagger-context-"));
    writeFileSync(join(context, "main.py"), "print('hello')\n");
    mkdirSync(join(context, "source_demo"));
    writeFileSync(join(context, "source_demo", "__init__.py"), "");
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fake.close();
    rmSync(context, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.clearRecords();
    engine = new DaggerEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it("refuses a recipe whose secret has no value before talking to the engine", async () => {
    const error = await engine.build({ recipe: everyOperation(), platform: "linux/amd64", contextDir: context }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorBuildError);
    expect(error).toMatchObject({ code: "BUILD_FAILED", message: expect.stringMatching(/operation 7 \(withSecretVariable PIP_INDEX_TOKEN from secret 'pypi-token'\).*no value/) });
    const missing = await engine
      .build({ recipe: ImageRecipe.empty().from(BASE).withFile("/app/x.py", "x.py"), platform: "linux/amd64", contextDir: context })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "BUILD_FAILED", message: expect.stringMatching(/operation 1 \(withFile x\.py → \/app\/x\.py\).*does not exist/) });
    expect(fake.requests).toHaveLength(0);
  });

  it("scrubs secret values from build errors", async () => {
    const recipe = ImageRecipe.empty().from(BASE).withSecretVariable("TOKEN", "tok").withExec(["sh", "-c", "exit 4"]);
    const leaky = await FakeDaggerSession.start({
      token: fake.token,
      exec: () => ({ stdout: `token is ${SECRET_VALUE}\n`, exitCode: 4 }),
    });
    process.env.DAGGER_SESSION_PORT = String(leaky.port);
    const leakyEngine = new DaggerEngine();
    try {
      const error = await leakyEngine.build({ recipe, platform: "linux/amd64", secrets: { tok: SECRET_VALUE } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BUILD_FAILED" });
      expect((error as Error).message).toContain("token is ***");
      expect((error as Error).message).not.toContain(SECRET_VALUE);
    } finally {
      await leakyEngine.close();
      await leaky.close();
      process.env.DAGGER_SESSION_PORT = String(fake.port);
    }
  });

  it("reports ENGINE_UNAVAILABLE when the session refuses the token", async () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    process.env.DAGGER_SESSION_TOKEN = "not-the-token";
    const stranger = new DaggerEngine();
    try {
      const error = await stranger.build({ recipe: ImageRecipe.empty().from(BASE), platform: "linux/amd64" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ENGINE_UNAVAILABLE", message: expect.stringContaining(`127.0.0.1:${fake.port} did not answer: API Error (HTTP 401)`) });
      expect(fake.requests.map((r) => r.status)).toEqual([401, 401]);
    } finally {
      await stranger.close();
      process.env.DAGGER_SESSION_TOKEN = fake.token;
      quiet.mockRestore();
    }
  });

  it("refuses, before any request reaches the engine: a build without network, a publish to a digest", async () => {
    const offline = await engine.build({ recipe: ImageRecipe.empty().from(BASE).withExec(["true"]), platform: "linux/amd64", network: "none" }).catch((e: unknown) => e);
    expect(offline).toMatchObject({ code: "USAGE", message: expect.stringMatching(/^the Dagger engine cannot build without network/) });
    const image = { engine: "dagger" as const, platform: "linux/amd64" as const, ref: "not-held" };
    await expect(engine.publish([image], `127.0.0.1:5000/x/y@sha256:${"1".repeat(64)}`)).rejects.toMatchObject({ code: "USAGE" });
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses images of another engine and recipes that do not start with from", async () => {
    await expect(engine.inspect({ engine: "docker", platform: "linux/amd64", ref: "sha256:abc" })).rejects.toMatchObject({ code: "RUN_FAILED" });
    await expect(engine.build({ recipe: ImageRecipe.empty().withExec(["true"]), platform: "linux/amd64" })).rejects.toMatchObject({
      code: "BUILD_FAILED",
    });
  });
});
