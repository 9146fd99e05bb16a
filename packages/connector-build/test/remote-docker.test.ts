// A remote Docker engine, for real: a second dockerd on a loopback TCP port (its own data, exec
// root, pid file and bridge, no iptables rules, so the machine's daemon is untouched), and a
// connector built there through DOCKER_HOST. Builds use host networking, so the second daemon
// reaches the local registry (127.0.0.1:5000) and the PyPI proxy as the first one does.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../src/engines/docker/docker-client.ts";
import { LOCAL_CATALOG, pipIndexUrl, runCli, stageExample, uniqueTag } from "./helpers.ts";

const DOCKERD = "/usr/sbin/dockerd";
let root: string;
let daemon: ChildProcess | undefined;
let host: string;
let bridge: string | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const remote = (args: string[]) => docker(args, { env: { ...process.env, DOCKER_HOST: host } });
const local = (args: string[]) => docker(args, { env: { ...process.env, DOCKER_HOST: "" } });

beforeAll(async () => {
  if (!existsSync(DOCKERD)) throw new Error(`${DOCKERD} not found: this test starts a second Docker daemon`);
  root = mkdtempSync(join(tmpdir(), "fleet-dockerd-"));
  host = `tcp://127.0.0.1:${await freePort()}`;
  // Its own bridge: a dockerd started with --bridge=none deletes docker0, the machine daemon's bridge.
  bridge = `acibr${process.pid % 100000}`;
  execFileSync("ip", ["link", "add", bridge, "type", "bridge"]);
  execFileSync("ip", ["addr", "add", "172.30.199.1/24", "dev", bridge]);
  execFileSync("ip", ["link", "set", bridge, "up"]);
  const log = openSync(join(root, "dockerd.log"), "a");
  // Its own (empty) configuration: the machine's /etc/docker/daemon.json is its daemon's, and a
  // directive there that is also a flag here (data-root, say) makes dockerd refuse to start.
  writeFileSync(join(root, "daemon.json"), "{}\n");
  daemon = spawn(
    DOCKERD,
    ["--config-file", join(root, "daemon.json"), "--data-root", join(root, "data"), "--exec-root", join(root, "exec"), "--pidfile", join(root, "dockerd.pid"), "-H", host, `--bridge=${bridge}`, "--iptables=false", "--ip6tables=false"],
    { stdio: ["ignore", log, log] },
  );
  for (let i = 0; i < 120; i++) {
    if (daemon.exitCode !== null) break;
    if ((await remote(["version", "--format", "{{.Server.Version}}"])).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the second dockerd did not answer on ${host}:\n${readFileSync(join(root, "dockerd.log"), "utf8").slice(-2000)}`);
}, 90_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon?.once("exit", r));
    daemon.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (daemon.exitCode === null) daemon.kill("SIGKILL");
  }
  if (root) rmSync(root, { recursive: true, force: true });
  if (bridge) execFileSync("ip", ["link", "del", bridge]);
}, 60_000);

describe("DOCKER_HOST: a second Docker daemon on loopback TCP", () => {
  it("builds, verifies and loads a connector there, not in the machine's daemon", async () => {
    const tag = uniqueTag("0.1.0-fleet-remote");
    const dir = await stageExample("source-hello", { tag });
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--output", "docker", "--pip-index-url", pipIndexUrl(), "--json"], { env: { DOCKER_HOST: host } });
    expect(cli.stderr).not.toContain("error:");
    expect(cli.exitCode).toBe(0);
    const [result] = JSON.parse(cli.stdout) as Array<{ status: string; platforms: Array<{ verification: { spec: boolean } }> }>;
    expect(result?.status).toBe("success");
    expect(result?.platforms[0]?.verification.spec).toBe(true);
    const reference = `airbyte/source-hello:${tag}`;
    expect((await remote(["image", "inspect", reference])).exitCode).toBe(0);
    expect((await local(["image", "inspect", reference])).exitCode).not.toBe(0);
    const spec = await remote(["run", "--rm", reference, "spec"]);
    expect(spec.stdout).toMatch(/"type":\s*"SPEC"/);
  }, 600_000);

  it("an unreachable DOCKER_HOST is ENGINE_UNAVAILABLE (exit 3) naming it", async () => {
    const dir = await stageExample("source-hello");
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker"], { env: { DOCKER_HOST: `tcp://127.0.0.1:${await freePort()}` } });
    expect(cli.exitCode).toBe(3);
    expect(cli.stderr).toMatch(/no usable Docker engine.* at DOCKER_HOST=tcp:\/\/127\.0\.0\.1:\d+/);
  }, 120_000);
});
