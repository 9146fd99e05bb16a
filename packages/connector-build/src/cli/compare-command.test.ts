import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { compareFixtures, type CompareFixtures } from "../../test/helpers/compare-fixtures.ts";
import { compareCommand } from "./compare-command.ts";
import { exitCodeFor } from "./main.ts";

let f: CompareFixtures;
beforeAll(async () => {
  f = await compareFixtures();
}, 300_000);
afterAll(async () => f?.cleanup());

function captureStdout(): { text: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { text: () => out, stderr: () => err };
}
afterEach(() => vi.restoreAllMocks());

describe("compareCommand", () => {
  it("prints 'identical' and succeeds (exit 0) for an image and itself", async () => {
    const out = captureStdout();
    expect(await compareCommand(f.tagA, f.a.ref, { engine: f.engine })).toBe(0);
    expect(out.text()).toContain("identical: no difference in");
  }, 120_000);

  it("prints the diff, then returns exit 1 (an outcome, not an error) naming the differing aspects on stderr", async () => {
    const out = captureStdout();
    expect(await compareCommand(f.tagA, f.b.ref, { engine: f.engine, json: true })).toBe(1);
    expect(out.stderr()).toBe(
      `connector-build: ${f.tagA} and ${f.b.ref} differ in 11 aspects: env, entrypoint, cmd, workdir, user, labels, python, pip, systemPackages, pythonDistributions, spec\n`,
    );
    const json = JSON.parse(out.text());
    expect(json.identical).toBe(false);
    expect(json.differences).toHaveLength(11);
  }, 120_000);

  it("--ignore-env adds to the ignored variables", async () => {
    const out = captureStdout();
    expect(await compareCommand(f.tagA, f.b.ref, { engine: f.engine, json: true, ignoreEnv: ["ONLY_A", "ONLY_B", "CHANGED", "AIRBYTE_ENTRYPOINT"] })).toBe(1);
    const json = JSON.parse(out.text());
    expect(json.differences.map((d: { aspect: string }) => d.aspect)).not.toContain("env");
    expect(json.ignoredEnv.map((i: { name: string }) => i.name)).toEqual(["HOSTNAME", "TRACEPARENT", "OTEL_TRACE_PARENT", "ONLY_A", "ONLY_B", "CHANGED", "AIRBYTE_ENTRYPOINT"]);
  }, 120_000);

  it("refuses a bad --platform, and an unknown image is bad input (exit 2)", async () => {
    await expect(compareCommand("a", "b", { engine: f.engine, platform: "linux/s390x" })).rejects.toThrowError(/unknown platform 'linux\/s390x'/);
    const error = await compareCommand("127.0.0.1:5000/airbyte-ci-does-not-exist:nope", f.tagA, { engine: f.engine }).catch((e: unknown) => e);
    expect(exitCodeFor(error)).toBe(2);
  }, 60_000);
});
