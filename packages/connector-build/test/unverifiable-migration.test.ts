// A migration that was to be verified (no --no-verify) but cannot be (the Dockerfile does not build
// here: Docker Hub is out of reach, so python:3.9-slim cannot be pulled) is not written: exit 1.
import { cpSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_CATALOG, runCli } from "./helpers.ts";

function twilio(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "unverifiable-")), "source-fleet-twilio");
  cpSync(join(import.meta.dirname, "__fixtures__/fleet/source-fleet-twilio"), dir, { recursive: true });
  return dir;
}

describe("an unverifiable migration", () => {
  it("without --no-verify: kept (exit 1), nothing written, and says how to write it anyway", async () => {
    const dir = twilio();
    const metadata = readFileSync(join(dir, "metadata.yaml"), "utf8");
    const cli = await runCli(["migrate", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker"]);
    expect(cli.exitCode, cli.stderr).toBe(1);
    expect(cli.stderr).toMatch(/not verified, so not written: the Dockerfile does not build here.*migrate with --no-verify to write it unverified/s);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).toBe(metadata);
  }, 300_000);

  it("with --no-verify: written (exit 0)", async () => {
    const dir = twilio();
    const cli = await runCli(["migrate", dir, "--catalog", LOCAL_CATALOG, "--no-verify"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(false);
  }, 300_000);
});
