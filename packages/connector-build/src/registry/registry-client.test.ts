/**
 * RegistryClient against real registries on loopback:
 * - the project's docker-registry on 127.0.0.1:5000 (no auth) with the fixture python images;
 * - a second docker-registry started here with `auth: token`, whose bearer challenges are answered
 *   by a token server in this file that signs JWTs (RS256, x5c) with a key made by openssl.
 * Nothing here reaches the internet.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID, sign } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  canonicalRegistryHost,
  credentialsFromDockerConfig,
  credentialsFromEnv,
  mergeScopes,
  parseAuthChallenge,
} from "./registry-auth.ts";
import { MEDIA_TYPES, RegistryClient, RegistryError } from "./registry-client.ts";
import { computeDigest } from "./platforms.ts";
import { registryApiBase } from "./transport.ts";
import { deleteManifest, listTags, manifestPlatform } from "../../test/helpers/registry-admin.ts";

const REGISTRY = "127.0.0.1:5000";
const ROOT = resolve(import.meta.dirname, "../../../..");
const FIXTURE = join(ROOT, ".local/fixture");
const STORAGE = join(ROOT, ".local/registry/docker/registry/v2/repositories");

interface FixtureRoot {
  readonly platform: string;
  readonly address: string;
  readonly digest: string;
}
const amd64 = JSON.parse(readFileSync(join(FIXTURE, "root-amd64.json"), "utf8")) as FixtureRoot;
const arm64 = JSON.parse(readFileSync(join(FIXTURE, "root-arm64.json"), "utf8")) as FixtureRoot;

/** Runs `fn`, expecting a RegistryError; returns it. */
async function registryError(fn: () => Promise<unknown>): Promise<RegistryError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect(RegistryError.isInstance(error)).toBe(true);
    // A malformed reference is bad input (exit 2); everything else is a registry failure (exit 1).
    expect((error as RegistryError).code).toBe((error as RegistryError).reason === "INVALID_REFERENCE" ? "INVALID_REFERENCE" : "REGISTRY_ERROR");
    return error as RegistryError;
  }
  throw new Error("expected a RegistryError, got success");
}

/** A loopback port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}


describe("registry-auth helpers", () => {
  it("parses Bearer and Basic challenges", () => {
    const bearer = parseAuthChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull",error="insufficient_scope"',
    );
    expect(bearer).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/python:pull",
        error: "insufficient_scope",
      },
    });
    expect(parseAuthChallenge('Basic realm="basic-realm"')).toEqual({ scheme: "basic", params: { realm: "basic-realm" } });
    expect(parseAuthChallenge(null)).toBeUndefined();
  });

  it("merges scopes per resource", () => {
    expect(mergeScopes(["repository:a:push", "repository:b:pull", "repository:a:pull"])).toEqual([
      "repository:a:pull,push",
      "repository:b:pull",
    ]);
  });

  it("normalises Docker Hub to registry-1.docker.io over https, loopback over http", () => {
    expect(registryApiBase("docker.io")).toBe("https://registry-1.docker.io");
    expect(registryApiBase("127.0.0.1:5000")).toBe("http://127.0.0.1:5000");
    expect(registryApiBase("127.8.9.10:5000")).toBe("http://127.8.9.10:5000");
    expect(registryApiBase("localhost:5000")).toBe("http://localhost:5000");
    expect(registryApiBase("ghcr.io")).toBe("https://ghcr.io");
    expect(canonicalRegistryHost("https://index.docker.io/v1/")).toBe("docker.io");
  });

  it("reads credentials from the environment, scoped by REGISTRY_HOST", () => {
    const env = { REGISTRY_USERNAME: "u", REGISTRY_PASSWORD: "p" };
    expect(credentialsFromEnv("ghcr.io", env)).toMatchObject({ username: "u", password: "p" });
    expect(credentialsFromEnv("ghcr.io", { ...env, REGISTRY_HOST: "docker.io, 127.0.0.1:5000" })).toBeUndefined();
    expect(credentialsFromEnv("docker.io", { ...env, REGISTRY_HOST: "index.docker.io" })).toMatchObject({ username: "u" });
    expect(() => credentialsFromEnv("ghcr.io", { REGISTRY_USERNAME: "u" })).toThrow(/REGISTRY_PASSWORD is empty/);
    expect(credentialsFromEnv("ghcr.io", {})).toBeUndefined();
  });

  it("reads credentials from a Docker config's auths", () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-client-dockercfg-"));
    try {
      const path = join(dir, "config.json");
      writeFileSync(
        path,
        JSON.stringify({
          auths: {
            "https://index.docker.io/v1/": { auth: Buffer.from("hub-user:hub:pass").toString("base64") },
            "127.0.0.1:5001": { username: "local", password: "pw" },
          },
          credsStore: "desktop",
        }),
      );
      expect(credentialsFromDockerConfig("docker.io", path)).toEqual({ username: "hub-user", password: "hub:pass", source: path });
      expect(credentialsFromDockerConfig("127.0.0.1:5001", path)).toMatchObject({ username: "local", password: "pw" });
      expect(credentialsFromDockerConfig("ghcr.io", path)).toBeUndefined();
      expect(credentialsFromDockerConfig("docker.io", join(dir, "absent.json"))).toBeUndefined();
      writeFileSync(path, "{not json");
      expect(() => credentialsFromDockerConfig("docker.io", path)).toThrow(/cannot parse Docker config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("RegistryClient against the local registry (no auth)", () => {
  const testRepository = `registry-client-test/run-${process.pid}-${Date.now()}`;
  const testRepo = `${REGISTRY}/${testRepository}`;

  afterAll(async () => {
    const client = new RegistryClient();
    for (const tag of await listTags(client, testRepo).catch(() => [] as string[])) {
      const digest = await client.resolveDigest(`${testRepo}:${tag}`).catch(() => undefined);
      if (digest !== undefined) await deleteManifest(client, testRepo, digest).catch(() => undefined);
    }
    for (const digest of [amd64.digest, arm64.digest]) await deleteManifest(client, testRepo, digest).catch(() => undefined);
    // The registry keeps an emptied repository; remove ours (unique name) from its storage.
    const dir = join(STORAGE, testRepository);
    if (dir.startsWith(join(STORAGE, "registry-client-test")) && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    try {
      rmdirSync(join(STORAGE, "registry-client-test")); // only when empty: another run may be using it
    } catch {
      // not empty or already gone
    }
  });

  it("lists the tags of python, following Link pagination", async () => {
    const paged = await listTags(new RegistryClient(), `${REGISTRY}/python`, { pageSize: 1 });
    expect(paged).toEqual(expect.arrayContaining(["3.11-bookworm-amd64", "3.11-bookworm-arm64"]));
    const whole = await listTags(new RegistryClient(), `${REGISTRY}/python`);
    expect(paged).toEqual(whole);
  });

  it("resolves the fixture digests to the recorded ones", async () => {
    const client = new RegistryClient();
    expect(await client.resolveDigest(amd64.address)).toBe(amd64.digest);
    expect(await client.resolveDigest(arm64.address)).toBe(arm64.digest);
    expect(await client.resolveDigest(`${REGISTRY}/python:3.11-bookworm-amd64`)).toBe(amd64.digest);
    expect(await client.resolveDigest(`${REGISTRY}/python:3.11-bookworm-arm64`)).toBe(arm64.digest);
    const manifest = await client.getManifest(amd64.address);
    expect(manifest.kind).toBe("manifest");
    expect(manifest.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(manifest.digest).toBe(amd64.digest);
    expect(computeDigest(manifest.bytes)).toBe(amd64.digest);
    expect(manifest.size).toBe(manifest.bytes.byteLength);
  });

  it("caches manifests by digest and tags per run", async () => {
    const client = new RegistryClient();
    const spy = vi.spyOn(globalThis, "fetch");
    try {
      await client.getManifest(amd64.address);
      await client.getManifest(amd64.address);
      await client.resolveDigest(amd64.address);
      expect(spy).toHaveBeenCalledTimes(1);
      await client.resolveDigest(`${REGISTRY}/python:3.11-bookworm-arm64`);
      await client.resolveDigest(`${REGISTRY}/python:3.11-bookworm-arm64`);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("reads the platform from the config blob; assertPlatform accepts amd64 for linux/amd64 and refuses it for linux/arm64", async () => {
    const client = new RegistryClient();
    expect(await manifestPlatform(client, amd64.address)).toEqual({ os: "linux", architecture: "amd64" });
    expect(await client.assertPlatform(amd64.address, "linux/amd64")).toEqual({
      digest: amd64.digest,
      platform: { os: "linux", architecture: "amd64" },
    });
    const error = await registryError(() => client.assertPlatform(amd64.address, "linux/arm64"));
    expect(error.reason).toBe("PLATFORM_MISMATCH");
    expect(error.message).toContain(amd64.address);
    expect(error.message).toContain("is the manifest of a linux/amd64 image");
    expect(error.message).toContain("not linux/arm64");
    expect(error.message).toContain("expected the digest of the linux/arm64 manifest");
  });

  it("assertPlatform accepts the arm64 fixture for linux/arm64", async () => {
    const client = new RegistryClient();
    expect((await client.assertPlatform(arm64.address, "linux/arm64")).platform.architecture).toBe("arm64");
  });

  it("refuses a tag-only reference", async () => {
    const error = await registryError(() => new RegistryClient().assertPlatform(`${REGISTRY}/python:3.11-bookworm-amd64`, "linux/amd64"));
    expect(error.reason).toBe("NOT_PINNED");
    expect(error.message).toMatch(/is a tag-only reference/);
    expect(error.message).toContain("@sha256:<digest of the linux/amd64 manifest>");
  });

  it("copies the fixture manifests by blob mount, pushes an index of them and reads it back", async () => {
    const client = new RegistryClient();
    // What the copy asked of the registry: blob mounts (POST …/blobs/uploads/?mount=…), no blob upload (PUT …/blobs/uploads/…).
    const requests = vi.spyOn(globalThis, "fetch");
    let sent: Array<{ method: string; url: string }>;
    try {
      expect(await client.copyManifest(amd64.address, testRepo)).toBe(amd64.digest);
      expect(await client.copyManifest(arm64.address, testRepo)).toBe(arm64.digest);
      sent = requests.mock.calls.map(([input, init]) => ({ method: init?.method ?? "GET", url: input instanceof Request ? input.url : String(input) }));
    } finally {
      requests.mockRestore();
    }
    expect(sent.some((r) => r.method === "POST" && r.url.includes("/blobs/uploads/") && r.url.includes("mount="))).toBe(true);
    expect(sent.filter((r) => r.method === "PUT" && r.url.includes("/blobs/uploads/"))).toEqual([]); // everything was mounted from python, nothing transferred
    const sources = [amd64, arm64].map((f) => client.getManifest(f.address));
    for (const m of await Promise.all(sources)) {
      if (m.kind !== "manifest") throw new Error("fixture is not a manifest");
      for (const blob of [m.manifest.config, ...m.manifest.layers]) expect(await client.blobExists(testRepo, blob.digest)).toBe(true);
    }

    const entries = await Promise.all(
      [amd64, arm64].map(async (f) => {
        const m = await client.getManifest(`${testRepo}@${f.digest}`);
        return { digest: m.digest, size: m.size, mediaType: m.mediaType, platform: f.platform as "linux/amd64" | "linux/arm64" };
      }),
    );
    const digest = await client.putIndex(testRepo, "multi", entries);
    const ociDigest = await client.putIndex(testRepo, "multi-oci", entries, { format: "oci" });

    const reader = new RegistryClient(); // fresh: nothing cached
    expect(await reader.resolveDigest(`${testRepo}:multi`)).toBe(digest);
    expect(await reader.tagExists(testRepo, "multi")).toBe(true);
    expect(await reader.tagExists(testRepo, "no-such-tag")).toBe(false);
    const index = await reader.getManifest(`${testRepo}:multi`);
    expect(index.kind).toBe("index");
    expect(index.digest).toBe(digest);
    expect(index.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    if (index.kind !== "index") throw new Error("unreachable");
    expect(index.manifest.manifests.map((m) => [m.platform, m.digest])).toEqual([
      [{ os: "linux", architecture: "amd64" }, amd64.digest],
      [{ os: "linux", architecture: "arm64" }, arm64.digest],
    ]);
    const oci = await reader.getManifest(`${testRepo}:multi-oci`);
    expect(oci.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(oci.digest).toBe(ociDigest);
    expect(await listTags(reader, testRepo)).toEqual(expect.arrayContaining(["multi", "multi-oci"]));

    const notSingle = await registryError(() => manifestPlatform(reader, `${testRepo}@${digest}`));
    expect(notSingle.reason).toBe("IS_INDEX");
    expect(notSingle.message).toContain(`linux/amd64 (${amd64.digest})`);
    expect(notSingle.message).toContain(`linux/arm64 (${arm64.digest})`);
    const pin = await registryError(() => reader.assertPlatform(`${testRepo}:multi@${digest}`, "linux/arm64"));
    expect(pin.reason).toBe("IS_INDEX");
    expect(pin.message).toContain("is a multi-platform index");
    expect(pin.message).toContain(`pin ${testRepo}@${arm64.digest} for linux/arm64`);

    await deleteManifest(reader, testRepo, ociDigest);
    expect(await new RegistryClient().tagExists(testRepo, "multi-oci")).toBe(false);
  });

  it("remembers the tags it pushed; resolveDigest with cached: false asks the registry again", async () => {
    const pusher = new RegistryClient();
    expect(await pusher.copyManifest(amd64.address, testRepo, "moving")).toBe(amd64.digest);
    // Another client moves the tag: the pusher still remembers its own push…
    expect(await new RegistryClient().copyManifest(arm64.address, testRepo, "moving")).toBe(arm64.digest);
    expect(await pusher.resolveDigest(`${testRepo}:moving`)).toBe(amd64.digest);
    // …until asked to look: then it reads the registry, and remembers that.
    expect(await pusher.resolveDigest(`${testRepo}:moving`, { cached: false })).toBe(arm64.digest);
    expect(await pusher.resolveDigest(`${testRepo}:moving`)).toBe(arm64.digest);
  });

  it("putIndex refuses entries that contradict the registry: platform, size, absent manifest", async () => {
    const client = new RegistryClient();
    await client.copyManifest(amd64.address, testRepo);
    const m = await client.getManifest(`${testRepo}@${amd64.digest}`);
    const entry = { digest: m.digest, size: m.size, mediaType: m.mediaType };

    const wrongPlatform = await registryError(() => client.putIndex(testRepo, "bad", [{ ...entry, platform: "linux/arm64" }]));
    expect(wrongPlatform.reason).toBe("PLATFORM_MISMATCH");
    expect(wrongPlatform.message).toContain("is listed as linux/arm64 but its image config says linux/amd64");

    const wrongSize = await registryError(() => client.putIndex(testRepo, "bad", [{ ...entry, size: 1, platform: "linux/amd64" }]));
    expect(wrongSize.reason).toBe("INVALID_MANIFEST");
    expect(wrongSize.message).toContain("1 bytes");

    const absent = `sha256:${"0".repeat(64)}`;
    const missing = await registryError(() => client.putIndex(testRepo, "bad", [{ ...entry, digest: absent, platform: "linux/amd64" }]));
    expect(missing.status).toBe(404);
    expect(missing.message).toContain(absent);
    expect(await client.tagExists(testRepo, "bad")).toBe(false);
  });

  it("explains a 404: registry, URL, operation, status, the registry's message, what was expected", async () => {
    const client = new RegistryClient();
    for (const attempt of [() => client.getManifest(`${REGISTRY}/python:no-such-tag`), () => client.resolveDigest(`${REGISTRY}/python:no-such-tag`)]) {
      const error = await registryError(attempt);
      expect(error.reason).toBe("HTTP_STATUS");
      expect(error.status).toBe(404);
      expect(error.registryCodes).toEqual(["MANIFEST_UNKNOWN"]);
      expect(error.url).toBe(`http://${REGISTRY}/v2/python/manifests/no-such-tag`);
      expect(error.message).toContain(`Registry ${REGISTRY}: cannot get the manifest of ${REGISTRY}/python:no-such-tag`);
      expect(error.message).toContain(`GET http://${REGISTRY}/v2/python/manifests/no-such-tag returned 404 Not Found`);
      expect(error.message).toContain("MANIFEST_UNKNOWN: manifest unknown");
      expect(error.message).toContain("expected a manifest or index for this reference");
    }
    const repo = await registryError(() => listTags(client, `${REGISTRY}/no-such-repository`));
    expect(repo.message).toContain("NAME_UNKNOWN: repository name not known to registry");
    expect(repo.message).toContain("expected the repository 'no-such-repository' to exist");
  });

  it("explains an unreachable registry", async () => {
    const blocked = await registryError(() => listTags(new RegistryClient(), "127.0.0.1:1/python"));
    expect(blocked.reason).toBe("UNREACHABLE");
    expect(blocked.message).toContain("Registry 127.0.0.1:1 is unreachable: cannot list the tags of 127.0.0.1:1/python");
    expect(blocked.message).toContain("GET http://127.0.0.1:1/v2/python/tags/list");
    expect(blocked.message).toContain("expected a registry serving the OCI distribution API at http://127.0.0.1:1/v2/");

    const port = await freePort();
    const refused = await registryError(() => new RegistryClient().resolveDigest(`127.0.0.1:${port}/python:3.11`));
    expect(refused.reason).toBe("UNREACHABLE");
    expect(refused.message).toContain(`Registry 127.0.0.1:${port} is unreachable: cannot resolve the digest of 127.0.0.1:${port}/python:3.11`);
    expect(refused.message).toContain("ECONNREFUSED");
  });

  it("times out on a registry that never answers", async () => {
    const sockets: import("node:net").Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await registryError(() => listTags(new RegistryClient({ timeoutMs: 300 }), `127.0.0.1:${port}/python`));
      expect(error.reason).toBe("TIMEOUT");
      expect(error.message).toContain(`Registry 127.0.0.1:${port} did not answer in 300 ms: cannot list the tags`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => silent.close(() => ok()));
    }
  });

  it("refuses malformed references before any request", async () => {
    const client = new RegistryClient();
    expect((await registryError(() => client.getManifest(`${REGISTRY}/python@sha256:abc`))).reason).toBe("INVALID_REFERENCE");
    expect((await registryError(() => client.getManifest(`${REGISTRY}/python`))).message).toContain("names neither a tag nor a digest");
    expect((await registryError(() => listTags(client, `${REGISTRY}/python:3.11`))).message).toContain("is a reference, not a repository");
  });
});

// -------------------------------------------------------------------------------------------------
// Bearer-token flow: a real docker-registry with `auth: token`, and a token server signing JWTs.

const SERVICE = "registry-client-test";
const ISSUER = "registry-client-test-issuer";
const USERS: Record<string, string> = { tester: "s3cret" };

interface TokenRequest {
  readonly user: string | undefined;
  readonly scopes: string[];
  readonly service: string | null;
}

describe("RegistryClient bearer-token flow against a docker-registry with token auth", () => {
  let dir: string;
  let registry: string;
  let child: ChildProcess | undefined;
  let tokenServer: Server | undefined;
  const tokenRequests: TokenRequest[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "registry-client-token-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", `/CN=${ISSUER}`,
    ], { stdio: "pipe" });
    const key = readFileSync(join(dir, "key.pem"), "utf8");
    const certDer = readFileSync(join(dir, "cert.pem"), "utf8").replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const url = new URL(req.url ?? "/", "http://token");
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== "/token") return reply(404, { details: "not found" });
      let user: string | undefined;
      const header = req.headers.authorization;
      if (header !== undefined) {
        const [scheme, value] = header.split(" ");
        const decoded = scheme === "Basic" ? Buffer.from(value ?? "", "base64").toString("utf8") : "";
        const colon = decoded.indexOf(":");
        const name = decoded.slice(0, colon);
        if (colon < 0 || USERS[name] !== decoded.slice(colon + 1)) return reply(401, { details: "incorrect username or password" });
        user = name;
      }
      const scopes = url.searchParams.getAll("scope");
      tokenRequests.push({ user, scopes, service: url.searchParams.get("service") });
      // Anonymous: pull only. Known user: whatever was asked.
      const access = scopes.map((scope) => {
        const [type, ...rest] = scope.split(":");
        const actions = (rest.pop() ?? "").split(",").filter((a) => user !== undefined || a === "pull");
        return { type, name: rest.join(":"), actions };
      });
      const now = Math.floor(Date.now() / 1000);
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const input = `${b64({ typ: "JWT", alg: "RS256", x5c: [certDer] })}.${b64({
        iss: ISSUER, sub: user ?? "", aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access,
      })}`;
      const token = `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
      reply(200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
    };
    tokenServer = createServer(handle);
    await new Promise<void>((ok) => tokenServer?.listen(0, "127.0.0.1", ok));
    const tokenPort = (tokenServer.address() as AddressInfo).port;

    const port = await freePort();
    registry = `127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "registry.yml"),
      [
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "storage")}`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: ${registry}`,
        "auth:",
        "  token:",
        `    realm: http://127.0.0.1:${tokenPort}/token`,
        `    service: ${SERVICE}`,
        `    issuer: ${ISSUER}`,
        `    rootcertbundle: ${join(dir, "cert.pem")}`,
        "",
      ].join("\n"),
    );
    let output = "";
    child = spawn("/usr/bin/docker-registry", ["serve", join(dir, "registry.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const status = await fetch(`http://${registry}/v2/`).then((r) => r.status, () => 0);
      if (status === 401) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`token-auth registry did not start on ${registry}:\n${output}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  });

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((ok) => child?.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    }
    if (tokenServer !== undefined) await new Promise<void>((ok) => tokenServer?.close(() => ok()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Pushes a tiny linux/arm64 image (config + one layer) to `repository` with `client`; returns its manifest digest. */
  async function pushTinyImage(client: RegistryClient, repository: string, tag: string): Promise<string> {
    const config = new TextEncoder().encode(JSON.stringify({ os: "linux", architecture: "arm64", variant: "v8", rootfs: { type: "layers", diff_ids: [] } }));
    const layer = new TextEncoder().encode(`not really a tarball ${randomUUID()}`);
    const configDigest = await client.uploadBlob(`${registry}/${repository}`, config);
    const layerDigest = await client.uploadBlob(`${registry}/${repository}`, layer);
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.byteLength },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layer.byteLength }],
    };
    return client.putManifest(`${registry}/${repository}`, tag, manifest, MEDIA_TYPES.ociManifest);
  }

  it("the registry really challenges: an anonymous client gets pull tokens but is refused push", async () => {
    const raw = await fetch(`http://${registry}/v2/tiny/tags/list`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="registry-client-test",scope="repository:tiny:pull"/);

    const before = tokenRequests.length;
    const error = await registryError(() => pushTinyImage(new RegistryClient({ env: {}, dockerConfigPath: false }), "tiny", "v1"));
    expect(error.reason).toBe("AUTH");
    expect(error.status).toBe(401);
    expect(error.message).toContain(`Registry ${registry}: cannot`);
    expect(error.message).toContain("even with a bearer token");
    expect(error.message).toContain("expected access to repository:tiny:pull,push");
    expect(error.message).toContain(`no credentials for ${registry}`);
    expect(tokenRequests.slice(before).every((r) => r.user === undefined && r.service === SERVICE)).toBe(true);
  });

  it("with credentials: fetches a token per scope, caches it, pushes and reads back", async () => {
    const client = new RegistryClient({ credentials: { [registry]: { username: "tester", password: "s3cret" } }, env: {}, dockerConfigPath: false });
    const before = tokenRequests.length;
    const digest = await pushTinyImage(client, "tiny", "v1");
    // Two blob checks (pull), two uploads and a manifest push (pull,push): one token per scope, reused.
    const pushTokens = tokenRequests.slice(before);
    expect(pushTokens.map((r) => r.scopes)).toEqual([["repository:tiny:pull"], ["repository:tiny:pull,push"]]);
    expect(pushTokens.every((r) => r.user === "tester")).toBe(true);

    // Reads need the pull scope: its token is cached, no new token request.
    const mid = tokenRequests.length;
    expect(await listTags(client, `${registry}/tiny`)).toEqual(["v1"]);
    expect(await listTags(client, `${registry}/tiny`)).toEqual(["v1"]);
    expect(await client.resolveDigest(`${registry}/tiny:v1`)).toBe(digest);
    expect(await client.assertPlatform(`${registry}/tiny:v1@${digest}`, "linux/arm64")).toEqual({
      digest,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    expect(tokenRequests.length - mid).toBe(0);

    // Anonymous pull works too: the token server grants pull to anyone.
    const anonymous = new RegistryClient({ env: {}, dockerConfigPath: false });
    expect(await anonymous.resolveDigest(`${registry}/tiny:v1`)).toBe(digest);
    const wrongArch = await registryError(() => anonymous.assertPlatform(`${registry}/tiny@${digest}`, "linux/amd64"));
    expect(wrongArch.reason).toBe("PLATFORM_MISMATCH");
    expect(wrongArch.message).toContain("linux/arm64/v8 image");
  });

  it("uses the auths of a Docker config file", async () => {
    const configPath = join(dir, "docker-config.json");
    writeFileSync(configPath, JSON.stringify({ auths: { [`http://${registry}`]: { auth: Buffer.from("tester:s3cret").toString("base64") } } }));
    const before = tokenRequests.length;
    const client = new RegistryClient({ env: {}, dockerConfigPath: configPath });
    const digest = await pushTinyImage(client, "from-docker-config", "v1");
    expect(await client.tagExists(`${registry}/from-docker-config`, "v1")).toBe(true);
    expect(tokenRequests.slice(before).every((r) => r.user === "tester")).toBe(true);
    await deleteManifest(client, `${registry}/from-docker-config`, digest);
    expect(await new RegistryClient({ env: {}, dockerConfigPath: configPath }).tagExists(`${registry}/from-docker-config`, "v1")).toBe(false);
  });

  it("explains credentials refused by the token server", async () => {
    const client = new RegistryClient({ env: { REGISTRY_USERNAME: "tester", REGISTRY_PASSWORD: "wrong" }, dockerConfigPath: false });
    const error = await registryError(() => listTags(client, `${registry}/tiny`));
    expect(error.reason).toBe("AUTH");
    expect(error.status).toBe(401);
    expect(error.message).toContain("could not get a token for repository:tiny:pull");
    expect(error.message).toContain("as 'tester' (credentials from REGISTRY_USERNAME/REGISTRY_PASSWORD)");
    expect(error.message).toContain("(incorrect username or password)");
    expect(error.message).not.toContain("wrong");
  });
});
