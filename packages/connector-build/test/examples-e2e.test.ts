// End to end, as a pipeline would: the real-connector examples (airbyte-cdk from PyPI, pinned in
// poetry.lock) are built from their metadata by the CLI on the local catalog's latest published
// base, then answer spec, check, discover and read against the tickets API served on loopback
// (the containers use the host network to reach it).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM module without types, shared with scripts/main-job.sh
import { startTicketsApi } from "../../../examples/tickets-api/server.mjs";
import { LOCAL_CATALOG, REPO_ROOT, localCatalog, runCli, uniqueTag } from "./helpers.ts";

const DOCKER = "/usr/bin/docker";
type Api = { url: string; token: string; requests: Array<{ path: string; authorized: boolean }>; close: () => Promise<void> };
type Message = { type: string; record?: { stream: string; data: Record<string, unknown> }; state?: { stream?: { stream_descriptor: { name: string }; stream_state: Record<string, unknown> } }; connectionStatus?: { status: string; message?: string }; catalog?: { streams: Array<{ name: string }> } };

let api: Api;
let work: string;

beforeAll(async () => {
  api = (await startTicketsApi({ token: `tok-${Math.random().toString(36).slice(2)}` })) as Api;
  work = mkdtempSync(join(tmpdir(), "examples-e2e-"));
});
afterAll(async () => {
  await api?.close();
});

/**
 * Runs the connector image with the host network, the config/catalog/state files mounted at /data.
 * Asynchronous on purpose: the API answers from this same process.
 */
async function runConnector(image: string, argv: string[], files: Record<string, unknown> = {}): Promise<Message[]> {
  const dir = mkdtempSync(join(work, "run-"));
  // Readable by the connector's user (base 2.0.0 runs it as airbyte, uid 1000), as a platform mounts its config.
  chmodSync(dir, 0o755);
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(value));
  const { stdout: out } = await promisify(execFile)(DOCKER, ["run", "--rm", "--network", "host", "-v", `${dir}:/data:ro`, image, ...argv], { maxBuffer: 64 << 20, timeout: 300_000 });
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Message);
}

const catalogOf = (streams: Array<{ name: string }>) => ({
  streams: streams.map((s) => ({
    stream: { name: s.name, json_schema: {}, supported_sync_modes: ["full_refresh", "incremental"], source_defined_cursor: true, default_cursor_field: ["updated_at"] },
    sync_mode: s.name === "tickets" ? "incremental" : "full_refresh",
    cursor_field: s.name === "tickets" ? ["updated_at"] : [],
    destination_sync_mode: "append",
  })),
});

for (const example of ["source-tickets", "source-tickets-declarative"] as const) {
  describe(`${example}: built from metadata on the latest local base, dependencies from PyPI`, () => {
    let image: string;

    beforeAll(async () => {
      const latest = localCatalog().latestStable();
      if (!latest?.publishedAddress) throw new Error(`the local catalog ${LOCAL_CATALOG} has no published version: run scripts/bootstrap.sh`);
      const dir = join(mkdtempSync(join(work, "connector-")), example);
      cpSync(join(REPO_ROOT, "examples", example), dir, { recursive: true });
      const tag = uniqueTag();
      writeFileSync(join(dir, "metadata.yaml"), readFileSync(join(dir, "metadata.yaml"), "utf8").replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
      const bump = await runCli(["bump-base", dir, "--catalog", LOCAL_CATALOG, "--to", latest.version]);
      expect(bump.exitCode, bump.stderr).toBe(0);
      const build = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--output", "docker", "--json"]);
      expect(build.exitCode, build.stderr).toBe(0);
      image = `airbyte/${example}:${tag}`;
    }, 900_000);

    it("answers spec with its connection specification", async () => {
      const [spec] = (await runConnector(image, ["spec"])).filter((m) => m.type === "SPEC");
      expect(spec).toBeDefined();
      expect(JSON.stringify(spec)).toContain('"api_token"');
    });

    it("check succeeds with the right token and FAILS with a wrong one", async () => {
      const ok = await runConnector(image, ["check", "--config", "/data/config.json"], { "config.json": { api_url: api.url, api_token: api.token } });
      expect(ok.find((m) => m.type === "CONNECTION_STATUS")?.connectionStatus?.status).toBe("SUCCEEDED");
      const bad = await runConnector(image, ["check", "--config", "/data/config.json"], { "config.json": { api_url: api.url, api_token: "wrong" } });
      expect(bad.find((m) => m.type === "CONNECTION_STATUS")?.connectionStatus?.status).toBe("FAILED");
    });

    it("discovers both streams", async () => {
      const [catalog] = (await runConnector(image, ["discover", "--config", "/data/config.json"], { "config.json": { api_url: api.url, api_token: api.token } })).filter((m) => m.type === "CATALOG");
      expect(catalog?.catalog?.streams.map((s) => s.name).sort()).toEqual(["tickets", "users"]);
    });

    it("reads every page, emits the cursor in STATE, and reads incrementally from a state", async () => {
      const config = { api_url: api.url, api_token: api.token, start_date: "2024-01-01T00:00:00Z", page_size: 3 };
      const catalog = catalogOf([{ name: "tickets" }, { name: "users" }]);
      const before = api.requests.length;
      const full = await runConnector(image, ["read", "--config", "/data/config.json", "--catalog", "/data/catalog.json"], { "config.json": config, "catalog.json": catalog });
      const ids = (stream: string, messages: Message[]) => messages.filter((m) => m.type === "RECORD" && m.record?.stream === stream).map((m) => m.record?.data["id"]);
      expect(ids("tickets", full)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(ids("users", full)).toEqual([1, 2, 3]);
      // 7 tickets at 3 a page: pages 1, 2 and 3 were asked for, with the token.
      const ticketPages = api.requests.slice(before).filter((r) => r.path.startsWith("/v1/tickets"));
      expect(ticketPages.length).toBe(3);
      expect(ticketPages.every((r) => r.authorized)).toBe(true);
      const states = full.filter((m) => m.type === "STATE" && m.state?.stream?.stream_descriptor.name === "tickets");
      expect(states.at(-1)?.state?.stream?.stream_state["updated_at"]).toBe("2024-01-07T12:00:00Z");

      const state = [{ type: "STREAM", stream: { stream_descriptor: { name: "tickets" }, stream_state: { updated_at: "2024-01-05T12:00:00Z" } } }];
      const incremental = await runConnector(image, ["read", "--config", "/data/config.json", "--catalog", "/data/catalog.json", "--state", "/data/state.json"], {
        "config.json": config,
        "catalog.json": catalogOf([{ name: "tickets" }]),
        "state.json": state,
      });
      expect(ids("tickets", incremental)).toEqual([5, 6, 7]);
    });
  });
}
