// Bad input and failures in the middle: one clear error, a non-zero exit, nothing half-written.
// (More cases live beside the code they exercise; the README's reliability table lists them all.)
import { createServer, request as httpRequest, type Server } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { CatalogData } from "@airbyte-ci/base-images";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { LOCAL_CATALOG, runCli, spawnCli, stageExample, testCatalog, uniqueTag } from "./helpers.ts";

/**
 * A loopback proxy in front of the real registry that refuses one kind of request: the registry
 * "refuses in the middle of a publish" after every platform's blobs and manifests went through.
 */
let proxy: Server;
let proxyPort = 0;
const refused: string[] = [];
beforeAll(async () => {
  proxy = createServer((req, res) => {
    const url = req.url ?? "";
    // Refuse the multi-platform index (a manifest PUT whose tag has no -<arch> suffix).
    if (req.method === "PUT" && /\/manifests\/\d+\.\d+\.\d+$/.test(url)) {
      refused.push(url);
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "registry is going down for maintenance" }] }));
      req.resume();
      return;
    }
    const upstream = httpRequest({ host: "127.0.0.1", port: 5000, method: req.method, path: url, headers: { ...req.headers, host: "127.0.0.1:5000" } }, (up) => {
      const headers = { ...up.headers };
      if (typeof headers.location === "string") headers.location = headers.location.replace("127.0.0.1:5000", `127.0.0.1:${proxyPort}`);
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyPort = (proxy.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

describe("publishing when the registry fails", () => {
  it("a registry that refuses in the middle of a publish: error, catalog unchanged, version tag absent", async () => {
    const repository = `test-reliability/r${uniqueTag("x")}`;
    const catalog = testCatalog(`127.0.0.1:${proxyPort}/${repository}`);
    const before = catalog.bytes();
    const cli = await runCli(["base", "release", "--catalog", catalog.path, "--bump", "patch", "--changelog", "refused mid-publish"]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/connector-build: error: .*1\.0\.1.*503.*UNAVAILABLE.*registry is going down for maintenance/);
    expect(refused.some((u) => u.endsWith("/manifests/1.0.1"))).toBe(true);
    expect(catalog.bytes()).toBe(before);
    const direct = new RegistryClient();
    expect(await direct.tagExists(`127.0.0.1:5000/${repository}`, "1.0.1")).toBe(false);
  }, 600_000);

  it("an unreachable registry: error naming it, catalog unchanged", async () => {
    const catalog = testCatalog("127.0.0.1:9/nowhere/python-connector-base");
    const before = catalog.bytes();
    const cli = await runCli(["base", "release", "--catalog", catalog.path, "--bump", "patch", "--changelog", "unreachable"]);
    expect(cli.exitCode).not.toBe(0);
    expect(cli.stderr).toMatch(/connector-build: error: .*127\.0\.0\.1:9/);
    expect(catalog.bytes()).toBe(before);
  });

  it("two releases at once: one wins, the other fails cleanly and the catalog holds exactly one new version", async () => {
    const repository = `127.0.0.1:5000/test-reliability/r${uniqueTag("y")}`;
    const catalog = testCatalog(repository);
    const run = () =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const child = spawnCli(["base", "release", "--catalog", catalog.path, "--bump", "minor", "--changelog", "race"]);
        let stderr = "";
        child.stderr.on("data", (b) => (stderr += b));
        child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(loser.stderr).toMatch(/another release holds .*catalog\.json\.lock|1\.1\.0 is already (published|in the catalog)/);
    const data = JSON.parse(catalog.bytes()) as CatalogData;
    expect(data.versions.map((v) => v.version)).toEqual(["1.0.0", "1.1.0"]);
    expect(await new RegistryClient().tagExists(repository, "1.1.0")).toBe(true);
  }, 600_000);
});

describe("bad input to the CLI", () => {
  it.each([
    [["base", "dockerfile", "1.0.0"], /required option '--platform <platform>' not specified/],
    [["build"], /no connector directory given: expected connector-build build <connector-dir>\.\.\. or --modified/],
    [["build", ".", "--output", "ftp://x"], /--output 'ftp:\/\/x': expected docker, oci:<file>, registry:<registry>/],
    [["build", ".", "--concurrency", "0"], /--concurrency '0': expected a positive integer/],
    [["build", ".", "--platform", "linux/s390x"], /unknown platform 'linux\/s390x'/],
    [["build", ".", "--secret", "token=UNSET_VARIABLE_X"], /environment variable UNSET_VARIABLE_X is not set/],
    [["base", "release", "--bump", "huge", "--changelog", "x"], /argument 'huge' is invalid/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("%j exits 2 with a clear error", async (args, message) => {
    const cli = await runCli(args as string[]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(message);
  });

  it("a malformed base image digest in metadata.yaml", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    const meta = join(dir, "metadata.yaml");
    writeFileSync(meta, readFileSync(meta, "utf8").replace(/@sha256:[0-9a-f]+/, "@sha256:1234"));
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/metadata\.yaml.*malformed digest 'sha256:1234'|data\.connectorBuildOptions\.baseImage/);
  });

  it("a build secret never appears in output, logs, labels or the image config", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    // BuildKit does not key its cache on secret values: a unique step, or a rerun prints nothing
    // (last, in postConnectorInstall, so that the dependency install stays cached).
    writeFileSync(
      join(dir, "build_customization.ts"),
      `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({ postConnectorInstall: (r) => r.withSecretVariable("PRIVATE_INDEX_TOKEN", "index-token").withExec(["sh", "-c", "test -n \\"$PRIVATE_INDEX_TOKEN\\" && echo token length \${#PRIVATE_INDEX_TOKEN} # ${uniqueTag()}"]) });\n`,
    );
    const secret = `tok-${Math.random().toString(36).slice(2)}-secret`;
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--secret", "index-token=MY_TOKEN", "--verbose", "--json"], { env: { MY_TOKEN: secret } });
    expect(cli.exitCode).toBe(0);
    expect(cli.stderr).toMatch(/token length \d+/);
    expect(cli.stdout + cli.stderr).not.toContain(secret);
    const [result] = JSON.parse(cli.stdout);
    const ref = result.output.reference as string;
    const { execFileSync } = await import("node:child_process");
    const inspect = execFileSync("/usr/bin/docker", ["image", "inspect", ref]).toString();
    const history = execFileSync("/usr/bin/docker", ["history", "--no-trunc", ref]).toString();
    expect(inspect).not.toContain(secret);
    expect(history).not.toContain(secret);
  }, 120_000);
});
