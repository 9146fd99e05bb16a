import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ImageRecipe, formatImageAddress, loadProductionCatalog } from "@airbyte-ci/base-images";
import type { Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../../errors.ts";
import { FakeDaggerSession } from "../../../test/dagger/fake-dagger-session.ts";
import type { FakeExec, RecordedCall, RecordedRequest } from "../../../test/dagger/fake-dagger-session.ts";
import { DaggerEngine, daggerCliAvailable, daggerSessionAvailable } from "./dagger-engine.ts";
import { daggerCallsFor } from "./lowering.ts";

// Decided before any test points the SDK at the fake endpoint.
const REAL_ENGINE = daggerSessionAvailable() || daggerCliAvailable();

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

/** The queries of a list of requests, whitespace-normalised. */
function queries(requests: readonly RecordedRequest[]): string[] {
  return requests.map((r) => r.query.replace(/\s+/g, " ").trim());
}

/** The only chain of the only request whose chain ends with `field`. */
function chainEndingWith(fake: FakeDaggerSession, field: string): RecordedCall[] {
  const found = fake.chains().filter((c) => c[c.length - 1]?.field === field);
  expect(found, `one chain ending with ${field}`).toHaveLength(1);
  return found[0] as RecordedCall[];
}

describe("DaggerEngine on a real Dagger engine", () => {
  // Runs only where an engine can be had (a session, a remote runner, or the dagger CLI with Docker);
  // elsewhere it is reported as skipped, never passed.
  it.skipIf(!REAL_ENGINE)(
    "builds a recipe, runs in it, reads its config and names a failing operation",
    async () => {
      const root = loadProductionCatalog().latestStable()?.rootImage("linux/amd64");
      const base = process.env.AIRBYTE_CI_DAGGER_TEST_BASE ?? (root ? formatImageAddress(root) : undefined);
      expect(base, "a digest-pinned base image").toBeDefined();
      const engine = new DaggerEngine();
      try {
        const recipe = ImageRecipe.empty()
          .from(base as string)
          .withEnvVariable("GREETING", "hello from dagger")
          .withNewFile("/opt/greeting.txt", "hi\n")
          .withExec(["sh", "-c", "cat /opt/greeting.txt > /opt/out.txt"])
          .withLabel("io.airbyte.test", "dagger-real-engine");
        const image = await engine.build({ recipe, platform: "linux/amd64" });
        expect(image.engine).toBe("dagger");
        const run = await engine.run(image, ["cat", "/opt/out.txt"]);
        expect(run).toEqual({ stdout: "hi\n", stderr: "", exitCode: 0 });
        expect((await engine.run(image, ["sh", "-c", "exit 7"])).exitCode).toBe(7);
        const config = await engine.inspect(image);
        expect(config.env.GREETING).toBe("hello from dagger");
        expect(config.labels["io.airbyte.test"]).toBe("dagger-real-engine");
        expect(config.architecture).toBe("amd64");

        const failing = recipe.withExec(["sh", "-c", "echo about to fail; exit 3"]);
        const error = await engine.build({ recipe: failing, platform: "linux/amd64" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConnectorBuildError);
        expect((error as ConnectorBuildError).code).toBe("BUILD_FAILED");
        expect((error as Error).message).toMatch(/operation 5 \(withExec/);
        expect((error as Error).message).toMatch(/about to fail/);
      } finally {
        await engine.close();
      }
    },
    900_000,
  );
});

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
  let out: string;
  let engine: DaggerEngine;
  const savedEnv: Record<string, string | undefined> = {};
  const execs: FakeExec[] = [];

  beforeAll(async () => {
    fake = await FakeDaggerSession.start({
      exec: (exec) => {
        execs.push(exec);
        const [program, ...rest] = exec.args;
        if (program === "echo") return { stdout: `${rest.join(" ")}\n` };
        if (program === "python" && rest[0] === "--version") return { stdout: "Python 3.11.9\n" };
        if (program === "false") return { exitCode: 1, stderr: "false: failed\n" };
        if (program === "sh" && rest[1]?.startsWith("exit ")) {
          return { stdout: "building wheel\n", stderr: "error: boom\n", exitCode: Number(rest[1].slice(5)) };
        }
        if (program === "check" && exec.env.MODE === "strict") return { stderr: "strict check failed\n", exitCode: 2 };
        return undefined;
      },
    });
    for (const name of ["DAGGER_SESSION_PORT", "DAGGER_SESSION_TOKEN"] as const) savedEnv[name] = process.env[name];
    Object.assign(process.env, fake.env);
    context = mkdtempSync(join(tmpdir(), "dagger-context-"));
    writeFileSync(join(context, "main.py"), "print('hello')\n");
    mkdirSync(join(context, "source_demo"));
    writeFileSync(join(context, "source_demo", "__init__.py"), "");
    out = mkdtempSync(join(tmpdir(), "dagger-out-"));
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fake.close();
    rmSync(context, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.clearRecords();
    execs.length = 0;
    engine = new DaggerEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it("attaches to the session, checks the version, and sends the recipe as one chain of Container calls", async () => {
    const recipe = everyOperation();
    const image = await engine.build({ recipe, platform: "linux/amd64", contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });

    // Every request carried the session token, as basic auth: none was refused.
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(queries(fake.requests)).toEqual([
      "{ version }", // sent by connect() itself
      "{ version }", // the engine's own reachability check
      `{ host { file (path: "${join(context, "main.py")}") { id } } }`,
      `{ host { directory (path: "${join(context, "source_demo")}") { id } } }`,
      '{ cacheVolume (key: "pip-cache") { id } }',
      `{ setSecret (name: "pypi-token",plaintext: "${SECRET_VALUE}") { id } }`,
      expect.stringMatching(/^\{ container \(platform: "linux\/amd64"\) \{ from .* \{ sync \} .*\}$/),
      expect.stringMatching(/^\{ node \(id: "fake-Container-[0-9a-f]+"\) \{ \.\.\. on Container \{ id \} \} \}$/),
    ]);

    const build = chainEndingWith(fake, "sync");
    expect(build).toEqual([
      { field: "container", args: { platform: "linux/amd64" } },
      { field: "from", args: { address: BASE } },
      { field: "withEnvVariable", args: { name: "LANG", value: "C.UTF-8" } },
      { field: "withWorkdir", args: { path: "/airbyte/integration_code" } },
      { field: "withFile", args: { path: "main.py", source: { hostFile: join(context, "main.py") }, permissions: 0o755 } },
      { field: "withDirectory", args: { path: "source_demo", source: { hostDirectory: join(context, "source_demo") } } },
      { field: "withNewFile", args: { path: "/airbyte/integration_code/VERSION", contents: VERSION_FILE, permissions: 0o644 } },
      { field: "withMountedCache", args: { path: "/root/.cache/pip", cache: { cacheVolume: "pip-cache" }, sharing: "LOCKED" } },
      { field: "withSecretVariable", args: { name: "PIP_INDEX_TOKEN", secret: { secret: "pypi-token" } } },
      { field: "withExec", args: { args: ["pip", "install", "--no-index", "."] } },
      { field: "withoutMount", args: { path: "/root/.cache/pip" } },
      { field: "withLabel", args: { name: "io.airbyte.version", value: "1.2.3" } },
      { field: "withUser", args: { name: "airbyte" } },
      { field: "withEntrypoint", args: { args: ["python", "/airbyte/integration_code/main.py"] } },
      { field: "withDefaultArgs", args: { args: ["spec"] } },
      { field: "sync", args: {} },
    ]);
    // The pure description agrees with what the SDK actually sent.
    expect(build.slice(0, -1)).toEqual(daggerCallsFor(recipe, "linux/amd64", { contextDir: context }));

    // The exec saw the secret as a secret variable and the cache mounted.
    expect(execs).toHaveLength(1);
    expect(execs[0]).toMatchObject({ secretVariables: ["PIP_INDEX_TOKEN"], mounts: ["/root/.cache/pip"], workdir: "/airbyte/integration_code" });
    expect(execs[0]?.env).not.toHaveProperty("PIP_INDEX_TOKEN");

    // BuiltImage.ref is the id the engine gave the synced container.
    const synced = fake.describe(image.ref);
    expect(image).toEqual({ engine: "dagger", platform: "linux/amd64", ref: expect.stringMatching(/^fake-Container-/) });
    expect(synced).toEqual({ container: image.ref, platform: "linux/amd64" });
  });

  it("hands the secret value to the engine once, through setSecret, and nowhere else", async () => {
    const image = await engine.build({ recipe: everyOperation(), platform: "linux/amd64", contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    await engine.run(image, ["echo", "hi"]);
    await engine.inspect(image);
    await engine.publish([image], "127.0.0.1:5000/airbyte/source-demo:1.2.3");

    const carrying = fake.requests.filter((r) => r.body.includes(SECRET_VALUE));
    expect(carrying).toHaveLength(1);
    expect(queries(carrying)[0]).toMatch(/^\{ setSecret \(name: "pypi-token",plaintext: /);
    // Never in a container chain, an env variable, a recorded call, an id or a result.
    const others = fake.requests.filter((r) => !r.body.includes("setSecret"));
    expect(others.length).toBeGreaterThan(5);
    for (const request of others) expect(request.body).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(fake.chains())).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(image)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(daggerCallsFor(everyOperation(), "linux/amd64"))).not.toContain(SECRET_VALUE);
    expect(fake.chains().some((c) => c.some((call) => call.field === "withEnvVariable" && call.args.name === "PIP_INDEX_TOKEN"))).toBe(false);
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

  it("runs an argv with expect ANY, without the build's cache mounts and secrets, and reads stdout, stderr and exit code", async () => {
    const image = await engine.build({ recipe: everyOperation(), platform: "linux/amd64", contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    fake.clearRecords();
    execs.length = 0;
    await expect(engine.run(image, ["python", "--version"])).resolves.toEqual({ stdout: "Python 3.11.9\n", stderr: "", exitCode: 0 });
    const run = chainEndingWith(fake, "sync");
    expect(run).toEqual([
      { field: "node", args: { id: { container: image.ref, platform: "linux/amd64" } }, on: "Container" },
      { field: "withoutSecretVariable", args: { name: "PIP_INDEX_TOKEN" } },
      { field: "withExec", args: { args: ["python", "--version"], expect: "ANY" } },
      { field: "sync", args: {} },
    ]);
    for (const field of ["stdout", "stderr", "exitCode"]) {
      expect(chainEndingWith(fake, field)).toEqual([
        { field: "node", args: { id: expect.objectContaining({ platform: "linux/amd64" }) }, on: "Container" },
        { field, args: {} },
      ]);
    }
    expect(execs[0]).toMatchObject({ secretVariables: [], mounts: [] });

    // A non-zero exit is a result, not an error.
    await expect(engine.run(image, ["false"])).resolves.toEqual({ stdout: "", stderr: "false: failed\n", exitCode: 1 });
    // With the entrypoint.
    fake.clearRecords();
    await engine.run(image, ["--help"], { useEntrypoint: true });
    expect(chainEndingWith(fake, "sync")[2]).toEqual({ field: "withExec", args: { args: ["--help"], expect: "ANY", useEntrypoint: true } });
  });

  it("reads the image config: env, labels, entrypoint, default args, workdir, user, platform", async () => {
    const image = await engine.build({ recipe: everyOperation(), platform: "linux/arm64", contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    const config = await engine.inspect(image);
    expect(config).toEqual({
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
      labels: { "io.airbyte.version": "1.2.3" },
      entrypoint: ["python", "/airbyte/integration_code/main.py"],
      cmd: ["spec"],
      workdir: "/airbyte/integration_code",
      user: "airbyte",
      os: "linux",
      architecture: "arm64",
    });
    // A list of objects is never a leaf: the SDK asks for their ids, then each name and value by node(id).
    const envIds = fake.chains().filter((c) => c.some((call) => call.field === "envVariables"));
    expect(envIds[0]?.map((c) => c.field)).toEqual(["node", "envVariables", "id"]);
  });

  it("publishes both platforms as platformVariants of one index and returns its digest", async () => {
    const build = (platform: Platform) =>
      engine.build({ recipe: everyOperation(), platform, contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    const amd64 = await build("linux/amd64");
    const arm64 = await build("linux/arm64");
    fake.clearRecords();
    const result = await engine.publish([amd64, arm64], "127.0.0.1:5000/airbyte/source-demo:1.2.3");

    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.address).toBe(`127.0.0.1:5000/airbyte/source-demo:1.2.3@${result.digest}`);
    expect(chainEndingWith(fake, "publish")).toEqual([
      { field: "container", args: {} },
      {
        field: "publish",
        args: {
          address: "127.0.0.1:5000/airbyte/source-demo:1.2.3",
          platformVariants: [
            { container: amd64.ref, platform: "linux/amd64" },
            { container: arm64.ref, platform: "linux/arm64" },
          ],
        },
      },
    ]);
    expect(fake.published).toEqual([{ address: "127.0.0.1:5000/airbyte/source-demo:1.2.3", platforms: ["linux/amd64", "linux/arm64"] }]);

    await expect(engine.publish([amd64, amd64], "127.0.0.1:5000/x:1")).rejects.toMatchObject({ code: "PUBLISH_FAILED" });
    await expect(engine.publish([amd64], `127.0.0.1:5000/x:1@sha256:${"0".repeat(64)}`)).rejects.toMatchObject({ code: "PUBLISH_FAILED" });
  });

  it("exports an OCI tarball with platformVariants, written beside the target then renamed", async () => {
    const build = (platform: Platform) =>
      engine.build({ recipe: everyOperation(), platform, contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    const images = [await build("linux/amd64"), await build("linux/arm64")];
    fake.clearRecords();
    const file = join(out, "nested", "image.tar");
    await engine.exportOci(images, file);

    const exported = chainEndingWith(fake, "export");
    expect(exported).toEqual([
      { field: "container", args: {} },
      {
        field: "export",
        args: {
          path: expect.stringMatching(/\/nested\/\.image\.tar\.[0-9a-f]+\.partial$/),
          platformVariants: images.map((i) => ({ container: i.ref, platform: i.platform })),
        },
      },
    ]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ platforms: ["linux/amd64", "linux/arm64"] });
    expect(readdirSync(join(out, "nested"))).toEqual(["image.tar"]);
  });

  it("loads an image into Docker: exports a Docker-media-type tarball, then docker load, tag and inspect", async () => {
    const image = await engine.build({ recipe: everyOperation(), platform: "linux/amd64", contextDir: context, secrets: { "pypi-token": SECRET_VALUE } });
    const bin = mkdtempSync(join(tmpdir(), "fake-docker-"));
    const log = join(bin, "calls.log");
    const id = `sha256:${"ab".repeat(32)}`;
    writeFileSync(
      join(bin, "docker"),
      `#!/bin/sh\necho "$@" >> '${log}'\ncase "$1" in\n  load) echo "Loaded image ID: ${id}" ;;\n  image) echo "${id}" ;;\nesac\n`,
      { mode: 0o755 },
    );
    const loader = new DaggerEngine({ dockerCli: join(bin, "docker") });
    try {
      fake.clearRecords();
      await expect(loader.loadIntoDocker(image, "airbyte/source-demo:dev")).resolves.toBe(id);
      const exported = chainEndingWith(fake, "export");
      expect(exported[exported.length - 1]).toEqual({
        field: "export",
        args: { path: expect.stringMatching(/\/image\.tar$/), mediaTypes: "DOCKER" }, // the SDK sends the GraphQL enum name, not the TS enum value
      });
      const tarball = exported[exported.length - 1]?.args.path as string;
      expect(readFileSync(log, "utf8").split("\n").filter(Boolean)).toEqual([
        `load -i ${tarball}`,
        `tag ${id} airbyte/source-demo:dev`,
        "image inspect --format {{.Id}} airbyte/source-demo:dev",
      ]);
      expect(existsSync(tarball)).toBe(false);
    } finally {
      await loader.close();
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("turns a failing exec into BUILD_FAILED naming the operation, argv, exit code and last output", async () => {
    const recipe = ImageRecipe.empty()
      .from(BASE)
      .withExec(["echo", "step one"])
      .withExec(["sh", "-c", "exit 3"])
      .withLabel("never", "reached");
    const error = await engine.build({ recipe, platform: "linux/amd64" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorBuildError);
    const { code, message } = error as ConnectorBuildError;
    expect(code).toBe("BUILD_FAILED");
    expect(message).toContain('failed at operation 2 (withExec ["sh","-c","exit 3"])');
    expect(message).toContain("exited with code 3");
    expect(message).toMatch(/last output:\nbuilding wheel\nerror: boom/);
    // The endpoint answered the sync with the exec error shape the SDK turns into ExecError.
    const failed = fake.requests.filter((r) => r.query.includes("sync"));
    expect(failed.map((r) => r.status)).toEqual([200]);
  });

  it("finds which of two identical withExecs failed by probing prefixes", async () => {
    const recipe = ImageRecipe.empty().from(BASE).withExec(["check"]).withEnvVariable("MODE", "strict").withExec(["check"]);
    const error = await engine.build({ recipe, platform: "linux/amd64" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BUILD_FAILED", message: expect.stringContaining('failed at operation 3 (withExec ["check"])') });
    expect((error as Error).message).toContain("strict check failed");
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

  it("refuses images of another engine and recipes that do not start with from", async () => {
    await expect(engine.inspect({ engine: "docker", platform: "linux/amd64", ref: "sha256:abc" })).rejects.toMatchObject({ code: "RUN_FAILED" });
    await expect(engine.build({ recipe: ImageRecipe.empty().withExec(["true"]), platform: "linux/amd64" })).rejects.toMatchObject({
      code: "BUILD_FAILED",
    });
  });
});
