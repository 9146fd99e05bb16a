import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareFixtures, type CompareFixtures } from "../../test/helpers/compare-fixtures.ts";
import { inspectDockerImage } from "../engines/docker/docker-engine.ts";
import { analyzeImages, envTables, renderImageAnalysisJson, renderImageAnalysisMarkdown, type ImageAnalysisReport } from "./image-analysis.ts";

let f: CompareFixtures;
beforeAll(async () => {
  f = await compareFixtures();
}, 300_000);
afterAll(async () => f?.cleanup());

it("builds the seed's three env tables from each image's environment", () => {
  const envs = new Map<string, Record<string, string>>([
    ["i1", { A: "1", B: "x", ONLY1: "o" }],
    ["i2", { A: "1", B: "y" }],
    ["i3", { A: "1", B: "x", ONLY3: "p=q" }],
  ]);
  expect(envTables(envs)).toEqual({
    common: [{ name: "A", value: "1" }],
    differentValues: [{ name: "B", values: ["x", "y"], byImage: { i1: "x", i2: "y", i3: "x" } }],
    imageSpecific: [
      { name: "ONLY1", byImage: { i1: "o" } },
      { name: "ONLY3", byImage: { i3: "p=q" } },
    ],
  });
  expect(envTables(new Map())).toEqual({ common: [], differentValues: [], imageSpecific: [] });
});

describe("analyzeImages (real Docker)", () => {
  let report: ImageAnalysisReport;
  let rootEnv: Record<string, string>;
  beforeAll(async () => {
    report = await analyzeImages(f.engine, [f.tagA, f.b.ref], [f.rootAddress]);
    rootEnv = { ...(await inspectDockerImage(f.rootAddress)).env };
  }, 120_000);

  it("resolves every image and lists its packages with dpkg", () => {
    expect(report.problems).toEqual([]);
    expect(report.images.map((i) => ({ reference: i.reference, id: i.id, platform: i.platform, packageManager: i.packageManager }))).toEqual([
      { reference: f.tagA, id: f.a.ref, platform: "linux/amd64", packageManager: "dpkg" },
      { reference: f.b.ref, id: f.b.ref, platform: "linux/amd64", packageManager: "dpkg" },
    ]);
    expect(report.baseImages).toHaveLength(1);
    expect(report.baseImages[0]?.envCount).toBeUndefined(); // base images: packages only
  });

  it("reports the variables with the same value everywhere: the root image's and SHARED", () => {
    const expected = Object.entries({ ...rootEnv, SHARED: "same" })
      .map(([name, value]) => ({ name, value }))
      .sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(report.env.common).toEqual(expected);
    expect(report.ignoredEnv).toEqual(["HOSTNAME"]);
    const everyName = [...report.env.common, ...report.env.differentValues, ...report.env.imageSpecific].map((e) => e.name);
    expect(everyName).not.toContain("HOSTNAME");
  });

  it("reports the same key with different values, with the set of values", () => {
    expect(report.env.differentValues).toEqual([
      {
        name: "AIRBYTE_ENTRYPOINT",
        values: ["python /airbyte/code/main_dev.py", "python /airbyte/integration_code/main.py"],
        byImage: { [f.tagA]: "python /airbyte/integration_code/main.py", [f.b.ref]: "python /airbyte/code/main_dev.py" },
      },
      { name: "CHANGED", values: ["one", "two"], byImage: { [f.tagA]: "one", [f.b.ref]: "two" } },
    ]);
  });

  it("reports image-specific keys; a value holding '=' is kept whole", () => {
    expect(report.env.imageSpecific).toEqual([
      { name: "ONLY_A", byImage: { [f.tagA]: "x" } },
      { name: "ONLY_B", byImage: { [f.b.ref]: "a=b=c" } },
    ]);
  });

  it("reports the system packages each image adds over its base images' packages (names only)", () => {
    expect(report.systemPackages.comparedTo).toEqual([f.rootAddress]);
    expect(report.systemPackages.basePackageCount).toBe(report.baseImages[0]?.packageCount);
    expect(report.systemPackages.added).toEqual([
      { image: f.tagA, packages: ["airbyte-fake-common", "airbyte-fake-legacy"] },
      { image: f.b.ref, packages: ["airbyte-fake-common", "airbyte-fake-tool"] },
    ]);
  });

  it("subtracts the union of several base images: A is one of B's bases here", async () => {
    const r = await analyzeImages(f.engine, [f.b.ref], [f.rootByDigest, f.tagA]);
    expect(r.systemPackages.added).toEqual([{ image: f.b.ref, packages: ["airbyte-fake-tool"] }]);
  }, 120_000);

  it("reports an image it cannot resolve as a problem and analyses the others", async () => {
    const missing = "127.0.0.1:5000/airbyte-ci-does-not-exist:nope";
    const r = await analyzeImages(f.engine, [f.tagA, missing, f.b.ref], []);
    expect(r.problems).toEqual([{ image: missing, role: "image", aspect: "image", message: expect.stringMatching(/could not be pulled/) }]);
    expect(r.images[1]).toEqual({ reference: missing });
    expect(r.env.imageSpecific.map((e) => e.name)).toEqual(["ONLY_A", "ONLY_B"]);
    // No base image: added packages are not computed.
    expect(r.systemPackages).toEqual({ comparedTo: [], basePackageCount: 0, added: [
      { image: f.tagA, packages: null },
      { image: missing, packages: null },
      { image: f.b.ref, packages: null },
    ] });
    expect(renderImageAnalysisMarkdown(r)).toContain(`## Problems\n\n- image \`${missing}\` (image): image ${missing} is not in the local Docker`);
  }, 120_000);

  it("renders Markdown tables and JSON", () => {
    const md = renderImageAnalysisMarkdown(report);
    expect(md).toMatch(/^# Connector images\n/);
    expect(md).toContain("### Same value in every image (");
    expect(md).toContain("| Env var name | Env var value |\n| --- | --- |\n");
    expect(md).toContain("| `SHARED` | `same` |");
    expect(md).toContain(`| \`CHANGED\` | \`one\`<br>\`two\` | ${f.tagA}<br>${f.b.ref} |`);
    expect(md).toContain(`| \`ONLY_B\` | ${f.b.ref} | \`a=b=c\` |`);
    expect(md).toContain(`| \`${f.tagA}\` | \`airbyte-fake-common\`, \`airbyte-fake-legacy\` |`);
    expect(md).not.toContain("## Problems");
    expect(renderImageAnalysisMarkdown(report, { headingLevel: 2 })).toMatch(/^## Connector images\n[\s\S]*\n#### Image-specific \(2\)/);
    expect(JSON.parse(renderImageAnalysisJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
