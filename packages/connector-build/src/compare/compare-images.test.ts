import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIFFERENCES_A_TO_B, SPEC_A, compareFixtures, type CompareFixtures } from "../../test/helpers/compare-fixtures.ts";
import { ConnectorBuildError } from "../errors.ts";
import { compareImages, renderComparisonJson, renderComparisonText, type ImageComparison, type ImageDifference } from "./compare-images.ts";
import { snapshotImage } from "../inspect/image-probes.ts";

let f: CompareFixtures;
beforeAll(async () => {
  f = await compareFixtures();
}, 300_000);
afterAll(async () => f?.cleanup());

function byAspect(comparison: ImageComparison): Map<string, ImageDifference> {
  return new Map(comparison.differences.map((d) => [d.aspect, d]));
}

describe("compareImages (real Docker)", () => {
  let ab: ImageComparison;
  beforeAll(async () => {
    ab = await compareImages(f.engine, f.tagA, f.b.ref);
  }, 120_000);

  it("reports exactly one difference per differing aspect, in order, and nothing else", () => {
    expect(ab.identical).toBe(false);
    expect(ab.differences.map((d) => d.aspect)).toEqual([
      "env",
      "entrypoint",
      "cmd",
      "workdir",
      "user",
      "labels",
      "python",
      "pip",
      "systemPackages",
      "pythonDistributions",
      "spec",
    ]);
    expect(ab.unavailable).toEqual([]);
    expect(ab.a).toEqual({ reference: f.tagA, id: f.a.ref, platform: "linux/amd64" });
    expect(ab.b).toEqual({ reference: f.b.ref, id: f.b.ref, platform: "linux/amd64" });
  });

  it("reports each aspect's difference exactly", () => {
    const d = byAspect(ab);
    const E = DIFFERENCES_A_TO_B;
    // env: runtime environment (printenv), HOSTNAME ignored; ONLY_B's value holds '='.
    expect(d.get("env")).toEqual({ aspect: "env", kind: "entries", ...E.env });
    expect(d.get("entrypoint")).toEqual({ aspect: "entrypoint", kind: "changed", ...E.entrypoint });
    expect(d.get("cmd")).toEqual({ aspect: "cmd", kind: "changed", ...E.cmd });
    expect(d.get("workdir")).toEqual({ aspect: "workdir", kind: "changed", ...E.workdir });
    expect(d.get("user")).toEqual({ aspect: "user", kind: "changed", ...E.user });
    expect(d.get("labels")).toEqual({ aspect: "labels", kind: "entries", ...E.labels });
    expect(d.get("python")).toEqual({ aspect: "python", kind: "changed", ...E.python });
    expect(d.get("pip")).toEqual({ aspect: "pip", kind: "changed", ...E.pip });
    expect(d.get("systemPackages")).toEqual({ aspect: "systemPackages", kind: "entries", ...E.systemPackages });
    // Names are PEP 503-normalised: setup(name="Airbyte_Extra") is airbyte-extra.
    expect(d.get("pythonDistributions")).toEqual({ aspect: "pythonDistributions", kind: "entries", ...E.pythonDistributions });
    // Structural: B prints its SPEC with keys in another order, after a LOG line.
    expect(d.get("spec")).toEqual({ aspect: "spec", kind: "json", changes: E.spec });
    expect(ab.ignoredEnv.map((i) => i.name)).toEqual(["HOSTNAME", "TRACEPARENT", "OTEL_TRACE_PARENT"]);
  });

  it("reverses: what B adds, A removes", async () => {
    const ba = await compareImages(f.engine, f.b, f.a);
    const env = byAspect(ba).get("env");
    expect(env).toMatchObject({ added: DIFFERENCES_A_TO_B.env.removed, removed: DIFFERENCES_A_TO_B.env.added });
    expect(byAspect(ba).get("systemPackages")).toMatchObject({
      added: DIFFERENCES_A_TO_B.systemPackages.removed,
      removed: DIFFERENCES_A_TO_B.systemPackages.added,
      changed: { "airbyte-fake-common": { a: "2.0.0", b: "1.0.0" } },
    });
  }, 120_000);

  it("finds an image identical to itself, whatever reference names it (id, tag)", async () => {
    const same = await compareImages(f.engine, f.a.ref, f.tagA);
    expect(same.identical).toBe(true);
    expect(same.differences).toEqual([]);
    expect(same.unavailable).toEqual([]);
    expect(same.a.id).toBe(same.b.id);
    expect(renderComparisonText(same)).toContain("identical: no difference in platform, environment variables, entrypoint");
  }, 120_000);

  it("ignores HOSTNAME only because it is told to: two runs of one image differ there", async () => {
    const raw = await compareImages(f.engine, f.a, f.a, { ignoreEnv: [] });
    expect(raw.identical).toBe(false);
    expect(raw.differences).toHaveLength(1);
    const env = raw.differences[0] as Extract<ImageDifference, { kind: "entries" }>;
    expect(Object.keys(env.changed)).toEqual(["HOSTNAME"]);
    expect(env.added).toEqual({});
    expect(env.removed).toEqual({});
  }, 120_000);

  it("reports an image that does not answer spec, and does not count what neither answers", async () => {
    // The root image has no entrypoint: `spec` is not a command there.
    const rootVsA = await compareImages(f.engine, f.rootAddress, f.a);
    const spec = byAspect(rootVsA).get("spec");
    expect(spec).toMatchObject({ aspect: "spec", kind: "unavailable", in: "a" });
    expect((spec as { detail: string }).detail).toMatch(/printed no JSON line with "type": "SPEC"/);
    // No SPEC in either: not a difference, but listed.
    const rootVsRoot = await compareImages(f.engine, f.rootAddress, f.rootByDigest);
    expect(rootVsRoot.identical).toBe(true);
    expect(rootVsRoot.unavailable.map((u) => u.aspect)).toEqual(["spec"]);
    expect(renderComparisonText(rootVsRoot)).toMatch(/not compared \(neither image answered\):\n {2}spec: a: /);
  }, 120_000);

  it("reads the SPEC message through the entrypoint, skipping log lines", async () => {
    const snapshot = await snapshotImage(f.engine, await f.engine.resolveImage(f.tagA));
    expect(snapshot.spec).toEqual({ ok: true, value: SPEC_A });
    expect(snapshot.python).toEqual({ ok: true, value: "3.11.2" });
  }, 120_000);

  it("refuses a reference that is neither local nor pullable, and an unknown image id", async () => {
    const missing = compareImages(f.engine, "127.0.0.1:5000/airbyte-ci-does-not-exist:nope", f.a);
    await expect(missing).rejects.toThrowError(/is not in the local Docker and could not be pulled for linux\/amd64/);
    await expect(missing).rejects.toSatisfy((e) => ConnectorBuildError.isInstance(e) && e.code === "USAGE");
    await expect(compareImages(f.engine, f.a, `sha256:${"0".repeat(64)}`)).rejects.toThrowError(/an image id cannot be pulled/);
  });

  it("renders text and JSON", () => {
    const text = renderComparisonText(ab);
    expect(text).toContain(`a: ${f.tagA} (${f.a.ref.slice(7, 19)}) linux/amd64`);
    expect(text).toContain("different: 11 aspects differ (environment variables, entrypoint, cmd, workdir, user, labels, Python version, pip version, system packages, Python distributions, spec)");
    for (const line of [
      "environment variables:\n  - ONLY_A=x\n  + ONLY_B=a=b=c\n  ~ AIRBYTE_ENTRYPOINT: python /airbyte/integration_code/main.py → python /airbyte/code/main_dev.py\n  ~ CHANGED: one → two",
      'entrypoint:\n  a: ["python","/airbyte/integration_code/main.py"]\n  b: ["python","/airbyte/code/main_dev.py"]',
      'user:\n  a: ""\n  b: nobody',
      "system packages:\n  - airbyte-fake-legacy 0.1.0\n  + airbyte-fake-tool 1.2.3\n  ~ airbyte-fake-common: 1.0.0 → 2.0.0",
      'spec:\n  + /spec/connectionSpecification/properties/start_date: {"type":"string"}\n  + /spec/connectionSpecification/required/1: "start_date"\n  ~ /spec/documentationUrl: "https://example.com/a" → "https://example.com/b"',
      "ignored environment variables:\n  HOSTNAME: set by the container runtime",
    ]) {
      expect(text).toContain(line);
    }
    expect(JSON.parse(renderComparisonJson(ab))).toEqual(JSON.parse(JSON.stringify(ab)));
  });
});
