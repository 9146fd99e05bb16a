import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cleanEnv } from "./run.ts";

/** A Verdaccio npm registry on loopback, with its own storage. */
export interface LoopbackRegistry {
  /** `http://127.0.0.1:<port>/`, with the trailing slash npm's config keys use. */
  readonly url: string;
  readonly port: number;
  /** The storage folder: published tarballs and manifests land here. */
  readonly storage: string;
  /** What Verdaccio printed so far (its log at level warn). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Verdaccio's config: the `@airbyte-ci` scope is served only from this storage (no uplink, so what
 * a stranger installs can only be what the rehearsal published) and accepts anonymous publishes;
 * other packages are not served at all, the stranger's npm takes them from its usual registry.
 */
function config(storage: string, htpasswd: string): string {
  return [
    `storage: ${JSON.stringify(storage)}`,
    "auth:",
    "  htpasswd:",
    `    file: ${JSON.stringify(htpasswd)}`,
    "    max_users: -1",
    "uplinks: {}",
    "packages:",
    "  '@airbyte-ci/*':",
    "    access: $all",
    "    publish: $anonymous",
    "    unpublish: $anonymous",
    "  '**':",
    "    access: $all",
    "    publish: $authenticated",
    "web:",
    "  enable: false",
    "log: { type: stdout, format: pretty, level: warn }",
    "",
  ].join("\n");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port assigned"))));
    });
  });
}

function verdaccioBin(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("verdaccio/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.verdaccio;
  if (!bin) throw new Error(`${manifestPath} declares no verdaccio bin: expected bin.verdaccio`);
  return join(dirname(manifestPath), bin);
}

async function waitUntilAnswering(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode} before answering on ${url}:\n${output()}`);
    try {
      const response = await fetch(new URL("-/ping", url));
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within 30 s:\n${output()}`);
}

/** Starts Verdaccio on 127.0.0.1 at a free port, its config and storage under `dir`. */
export async function startLoopbackRegistry(dir: string): Promise<LoopbackRegistry> {
  const storage = join(dir, "storage");
  mkdirSync(storage, { recursive: true });
  const configPath = join(dir, "verdaccio.yaml");
  writeFileSync(configPath, config(storage, join(dir, "htpasswd")));
  const bin = verdaccioBin();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    let output = "";
    const child = spawn(process.execPath, [bin, "--config", configPath, "--listen", `127.0.0.1:${port}`], {
      cwd: dir,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    try {
      await waitUntilAnswering(url, child, () => output);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
      continue; // most likely the port was taken between freePort() and listen
    }
    return {
      url,
      port,
      storage,
      log: () => output,
      stop: async () => {
        process.removeListener("exit", killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5_000).then(() => child.kill("SIGKILL"))]);
      },
    };
  }
  throw lastError;
}
