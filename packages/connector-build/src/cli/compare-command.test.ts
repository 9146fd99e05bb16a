import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { compareFixtures, type CompareFixtures } from "../../test/helpers/compare-fixtures.ts";
import { ConnectorBuildError } from "../errors.ts";
import { compareCommand } from "./compare-command.ts";
import { exitCodeFor } from "./main.ts";

let f: CompareFixtures;
beforeAll(async () => {
  f = await compareFixtures();
}, 300_000);
afterAll(async () => f?.cleanup());

function captureStdout(): { text: () => string } {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  return { text: () => out };
}
afterEach(() => vi.restoreAllMocks());

describe("compareCommand", () => {
  it("prints 'identical' and succeeds (exit 0) for an image and itself", async () => {
    const out = captureStdout();
    await compareCommand(f.tagA, f.a.ref, { engine: f.engine });
    expect(out.text()).toContain("identical: no difference in");
  }, 120_000);

  it("prints the diff, then fails with VERIFICATION_FAILED (exit 1) naming the differing aspects", async () => {
    const out = captureStdout();
    const error = await compareCommand(f.tagA, f.b.ref, { engine: f.engine, json: true }).catch((e: unknown) => e);
    expect(ConnectorBuildError.isInstance(error) && error.code).toBe("VERIFICATION_FAILED");
    expect(exitCodeFor(error)).toBe(1);
    expect((error as Error).message).toBe(
      `${f.tagA} and ${f.b.ref} differ in 11 aspects: env, entrypoint, cmd, workdir, user, labels, python, pip, systemPackages, pythonDistributions, spec`,
    );
    const json = JSON.parse(out.text());
    expect(json.identical).toBe(false);
    expect(json.differences).toHaveLength(11);
  }, 120_000);

  it("--ignore-env adds to the ignored variables", async () => {
    const out = captureStdout();
    const error = await compareCommand(f.tagA, f.b.ref, { engine: f.engine, json: true, ignoreEnv: ["ONLY_A", "ONLY_B", "CHANGED", "AIRBYTE_ENTRYPOINT"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const json = JSON.parse(out.text());
    expect(json.differences.map((d: { aspect: string }) => d.aspect)).not.toContain("env");
    expect(json.ignoredEnv.map((i: { name: string }) => i.name)).toEqual(["HOSTNAME", "TRACEPARENT", "OTEL_TRACE_PARENT", "ONLY_A", "ONLY_B", "CHANGED", "AIRBYTE_ENTRYPOINT"]);
  }, 120_000);

  it("refuses the dagger engine and a bad --platform, and an unknown image is bad input (exit 2)", async () => {
    await expect(compareCommand("a", "b", { engine: "dagger" })).rejects.toThrowError(/use --engine docker/);
    await expect(compareCommand("a", "b", { engine: f.engine, platform: "linux/s390x" })).rejects.toThrowError(/unknown platform 'linux\/s390x'/);
    const error = await compareCommand("127.0.0.1:5000/airbyte-ci-does-not-exist:nope", f.tagA, { engine: f.engine }).catch((e: unknown) => e);
    expect(exitCodeFor(error)).toBe(2);
  }, 60_000);
});
