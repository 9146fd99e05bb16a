import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pythonVariantIds } from "../../test/helpers/python-reference.ts";
import { ConnectorBuildError } from "../errors.ts";
import { analyzeRepository, type DockerfileAnalysisReport } from "./analyze.ts";

const PACKAGE_DIR = fileURLToPath(new URL("../../", import.meta.url));
const ANALYZE_ENTRY = fileURLToPath(new URL("../../test/helpers/analyze-entry.ts", import.meta.url));
const TREE = fileURLToPath(new URL("../../test/__fixtures__/connectors-tree/", import.meta.url));
const SEED_TREE = fileURLToPath(new URL("../../test/__fixtures__/connectors-tree-seed/", import.meta.url));
const CONNECTORS = "airbyte-integrations/connectors";
const LOCAL_PYTHON = "127.0.0.1:5000/python:3.11-bookworm";

/** Every connector of a report with a variant, and its id. */
function idsByConnector(report: DockerfileAnalysisReport): Map<string, string> {
  return new Map(report.variants.flatMap((v) => v.connectors.map((c) => [c, v.id] as const)));
}

/** The Python reference's id for each connector folder of a tree. */
function pythonIds(root: string, dirs: Record<string, string>): Map<string, string> {
  const entries = Object.entries(dirs);
  const results = pythonVariantIds(entries.map(([name, dir]) => ({ technicalName: name, codeDirectory: join(root, dir) })));
  return new Map(entries.map(([name], i) => [name, (results[i] as { id: string }).id]));
}

describe("analyzeRepository on a realistic Airbyte tree", () => {
  let report: DockerfileAnalysisReport;
  beforeAll(async () => {
    report = await analyzeRepository(TREE);
  });

  it("guards the fixtures' line endings and encodings (git must not normalise them)", () => {
    expect(readFileSync(join(TREE, CONNECTORS, "source-facebook-pages/Dockerfile"), "latin1")).toContain("\r\n");
    expect([...readFileSync(join(TREE, CONNECTORS, "source-github/Dockerfile")).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it("selects certified python and low-code connectors, found at any depth under airbyte-integrations/connectors", () => {
    expect(report.criteria).toEqual({ languages: ["python", "low-code"], supportLevels: ["certified"] });
    // 19 folders with a metadata.yaml; tools/source-outside-layout is outside the Airbyte layout.
    expect(report.scanned).toBe(19);
    expect(report.selected).toBe(14);
    const listed = [
      ...report.variants.flatMap((v) => v.connectors),
      ...report.withoutDockerfile,
      ...report.unreadable.map((u) => u.connector),
    ];
    expect(listed).toHaveLength(report.selected);
    for (const notSelected of ["source-postgres", "source-faker", "source-xkcd", "source-legacy-cert", "source-broken", "source-outside-layout"]) {
      expect(listed).not.toContain(notSelected);
    }
  });

  it("groups the Dockerfiles into the variants the notebook would find, by count then id", () => {
    expect(report.variants.map((v) => ({ id: v.id, count: v.count, connectors: v.connectors }))).toEqual([
      // TWILIO-like: twilio, a low-code connector (language from its tag) and one a folder deeper.
      { id: "157c1f0", count: 3, connectors: ["source-greenhouse", "source-pokeapi", "source-twilio"] },
      // INSTAGRAM-like: CRLF line endings and a language detected from setup.py change nothing.
      { id: "ba80d42", count: 3, connectors: ["source-facebook-pages", "source-instagram", "source-mailchimp"] },
      { id: "59d7c9c", count: 1, connectors: ["source-notion"] },
      // A comment line's text is also removed from inside an instruction.
      { id: "5fb186f", count: 1, connectors: ["source-stripe"] },
      // A bare "#" line removes every "#" of the file; an indented comment is kept.
      { id: "76582ec", count: 1, connectors: ["source-hubspot"] },
      { id: "dcf36a0", count: 1, connectors: ["source-zendesk-chat"] },
      // Twilio-like, but a BOM is not whitespace for Python: its own variant.
      { id: "ea52468", count: 1, connectors: ["source-github"] },
    ]);
  });

  it("computes the very ids of the Python reference implementation", () => {
    const dirs: Record<string, string> = {};
    for (const name of idsByConnector(report).keys()) {
      dirs[name] = name === "source-greenhouse" ? `${CONNECTORS}/incubating/${name}` : `${CONNECTORS}/${name}`;
    }
    expect(idsByConnector(report)).toEqual(pythonIds(TREE, dirs));
  });

  it("gives each variant an example and its base images", () => {
    const instagram = report.variants.find((v) => v.id === "ba80d42");
    expect(instagram?.example).toMatchObject({
      connector: "source-facebook-pages",
      dockerfile: `${CONNECTORS}/source-facebook-pages/Dockerfile`,
      image: "airbyte/source-facebook-pages:0.3.0",
    });
    // The content as read_text() gives it: universal newlines.
    expect(instagram?.example.content).not.toContain("\r");
    expect(instagram?.example.content).toMatch(/^FROM 127\.0\.0\.1:5000\/python:3\.11-bookworm\n/);
    expect(instagram?.baseImages).toEqual([LOCAL_PYTHON]);
    expect(report.variants.find((v) => v.id === "59d7c9c")?.baseImages).toEqual(["python:3.9.11-alpine3.15"]);
    expect(report.variants.find((v) => v.id === "157c1f0")?.example.dockerfile).toBe(
      `${CONNECTORS}/incubating/source-greenhouse/Dockerfile`,
    );
  });

  it("lists connectors without a Dockerfile and unreadable Dockerfiles", () => {
    expect(report.withoutDockerfile).toEqual(["source-sentry", "source-shopify"]);
    expect(report.unreadable).toEqual([
      {
        connector: "source-marketo",
        path: `${CONNECTORS}/source-marketo/Dockerfile`,
        error: expect.stringMatching(/^not valid UTF-8: .*0xe9 at byte 19 .*UnicodeDecodeError/),
      },
    ]);
  });

  it("reports a metadata.yaml that cannot be parsed, with its line", () => {
    expect(report.problems).toEqual([
      {
        connector: "source-broken",
        path: `${CONNECTORS}/source-broken/metadata.yaml`,
        severity: "error",
        line: 4,
        message: expect.stringMatching(/^YAML syntax error: /),
      },
    ]);
  });

  it("selects by exact language and support level", async () => {
    const java = await analyzeRepository(TREE, { languages: ["java"] });
    expect(java.selected).toBe(1);
    expect(java.variants).toEqual([expect.objectContaining({ connectors: ["source-postgres"], baseImages: ["airbyte/integration-base-java:dev"] })]);

    const manifestOnly = await analyzeRepository(TREE, { languages: ["manifest-only"] });
    expect(manifestOnly.withoutDockerfile).toEqual(["source-xkcd"]);

    const community = await analyzeRepository(TREE, { supportLevels: ["community"] });
    expect(community.variants.flatMap((v) => v.connectors)).toEqual(["source-faker"]);

    // Not the notebook's substring test: "cert" is not selected by ["certified"] (see above), and
    // ["cert"] does not select the certified connectors.
    const cert = await analyzeRepository(TREE, { supportLevels: ["cert"] });
    expect(cert.variants.flatMap((v) => v.connectors)).toEqual(["source-legacy-cert"]);

    const both = await analyzeRepository(TREE, { supportLevels: ["certified", "community"] });
    expect(both.selected).toBe(15);
  });
});

describe("analyzeRepository on the seed's three example Dockerfiles", () => {
  it("finds three variants, their base images as the notebook listed them, the reference ids", async () => {
    const report = await analyzeRepository(SEED_TREE);
    expect(report.selected).toBe(3);
    const byConnector = [...report.variants].sort((a, b) => (a.connectors[0] ?? "").localeCompare(b.connectors[0] ?? ""));
    expect(byConnector.map((v) => [v.count, v.connectors, v.baseImages])).toEqual([
      [1, ["source-instagram"], ["python:3.9-slim"]],
      [1, ["source-notion"], ["python:3.9.11-alpine3.15"]],
      [1, ["source-twilio"], ["python:3.9-slim"]],
    ]);
    expect(idsByConnector(report)).toEqual(
      pythonIds(SEED_TREE, {
        "source-instagram": `${CONNECTORS}/source-instagram`,
        "source-notion": `${CONNECTORS}/source-notion`,
        "source-twilio": `${CONNECTORS}/source-twilio`,
      }),
    );
    expect(byConnector.map((v) => v.example.image)).toEqual([
      "airbyte/source-instagram:1.0.11",
      "airbyte/source-notion:1.1.2",
      "airbyte/source-twilio:0.10.0",
    ]);
  });
});

const DOCKERFILE = (name: string, version: string): string =>
  [
    `FROM ${LOCAL_PYTHON}`,
    "WORKDIR /airbyte/integration_code",
    "COPY setup.py ./",
    "RUN pip install .",
    `COPY ${name.replaceAll("-", "_")} ./${name.replaceAll("-", "_")}`,
    "COPY main.py ./",
    'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
    `LABEL io.airbyte.version=${version}`,
    `LABEL io.airbyte.name=airbyte/${name}`,
    "",
  ].join("\n");

const METADATA = (name: string, version: string, supportLevel = "certified"): string =>
  [
    "data:",
    "  connectorSubtype: api",
    "  connectorType: source",
    `  dockerImageTag: ${version}`,
    `  dockerRepository: airbyte/${name}`,
    `  githubIssueLabel: ${name}`,
    "  license: MIT",
    "  registries:",
    "    cloud:",
    "      enabled: true",
    "    oss:",
    "      enabled: true",
    "  releaseStage: generally_available",
    "  tags:",
    "    - language:python",
    `  supportLevel: ${supportLevel}`,
    'metadataSpecVersion: "1.0"',
    "",
  ].join("\n");

function writeConnector(dir: string, name: string, options: { dockerfile?: string | null; supportLevel?: string } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "metadata.yaml"), METADATA(name, "1.0.0", options.supportLevel));
  if (options.dockerfile !== null) writeFileSync(join(dir, "Dockerfile"), options.dockerfile ?? DOCKERFILE(name, "1.0.0"));
}

/**
 * analyzeRepository(root) run by uid/gid 65534 (nobody), through `setpriv`, in a child process: as
 * root every file is readable, so the permission test would test nothing.
 */
function analyzeAsNobody(root: string): DockerfileAnalysisReport {
  const run = spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", "--conditions=@airbyte-ci/source", ANALYZE_ENTRY, root],
    { cwd: PACKAGE_DIR, encoding: "utf8", env: { ...process.env, HOME: tmpdir() } },
  );
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`setpriv … analyze-entry.ts ${root} as uid 65534 failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as DockerfileAnalysisReport;
}

describe("analyzeRepository edge cases", () => {
  const tmp = mkdtempSync(join(tmpdir(), "analyze-"));
  chmodSync(tmp, 0o755); // the permission test reads it as another user
  afterAll(() => {
    try {
      chmodSync(join(tmp, "perm", "source-locked", "Dockerfile"), 0o644);
    } catch {
      // not created
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it("walks any folder of connectors, skipping node_modules and hidden folders", async () => {
    const root = join(tmp, "plain");
    writeConnector(join(root, "source-a"), "source-a");
    writeConnector(join(root, "group", "deeper", "source-b"), "source-b");
    writeConnector(join(root, "node_modules", "source-c"), "source-c");
    writeConnector(join(root, ".git", "source-d"), "source-d");
    writeConnector(join(root, ".venv", "source-e"), "source-e");
    // A connector's own folder is not searched further.
    writeConnector(join(root, "source-a", "unit_tests", "source-f"), "source-f");
    const report = await analyzeRepository(root);
    expect(report.scanned).toBe(2);
    expect(report.variants).toEqual([expect.objectContaining({ count: 2, connectors: ["source-a", "source-b"] })]);
  });

  it("analyses a single connector folder given as root", async () => {
    const root = join(tmp, "single", "source-solo");
    writeConnector(root, "source-solo");
    const report = await analyzeRepository(root);
    expect(report.variants).toEqual([expect.objectContaining({ connectors: ["source-solo"], example: expect.objectContaining({ dockerfile: "Dockerfile" }) })]);
  });

  it("reports Dockerfiles that are directories or broken links as unreadable", async () => {
    const root = join(tmp, "odd");
    writeConnector(join(root, "source-dir"), "source-dir", { dockerfile: null });
    mkdirSync(join(root, "source-dir", "Dockerfile"));
    writeConnector(join(root, "source-link"), "source-link", { dockerfile: null });
    symlinkSync(join(root, "nowhere"), join(root, "source-link", "Dockerfile"));
    const report = await analyzeRepository(root);
    expect(report.unreadable).toEqual([
      { connector: "source-dir", path: "source-dir/Dockerfile", error: "is a directory, not a file" },
      { connector: "source-link", path: "source-link/Dockerfile", error: "is a broken symbolic link (ENOENT)" },
    ]);
    expect(report.withoutDockerfile).toEqual([]);
  });

  it("reports a Dockerfile it may not read as unreadable (as an unprivileged user: root reads everything)", async () => {
    const root = join(tmp, "perm");
    writeConnector(join(root, "source-locked"), "source-locked");
    chmodSync(join(root, "source-locked", "Dockerfile"), 0o000);
    const report = process.getuid?.() === 0 ? analyzeAsNobody(root) : await analyzeRepository(root);
    expect(report.unreadable).toEqual([{ connector: "source-locked", path: "source-locked/Dockerfile", error: "permission denied (EACCES)" }]);
  });

  it("warns about duplicate technical names and reports metadata problems of selected connectors only", async () => {
    const root = join(tmp, "dups");
    writeConnector(join(root, "a", "source-twin"), "source-twin");
    writeConnector(join(root, "b", "source-twin"), "source-twin");
    mkdirSync(join(root, "source-tagless"));
    writeFileSync(join(root, "source-tagless", "metadata.yaml"), "data:\n  supportLevel: certified\n  tags: [language:python]\n");
    mkdirSync(join(root, "source-community"));
    writeFileSync(join(root, "source-community", "metadata.yaml"), "data:\n  supportLevel: community\n  tags: [language:python]\n");
    mkdirSync(join(root, "source-typo"));
    writeFileSync(join(root, "source-typo", "metadata.yaml"), "data:\n  dockerRepository: airbyte/source-typo\n  dockerImageTag: 1.0.0\n  supportLevel: [certified]\n");
    const report = await analyzeRepository(root);
    expect(report.problems.map((p) => [p.connector, p.severity, p.field, p.message])).toEqual([
      ["source-twin", "warning", undefined, expect.stringMatching(/^2 connectors share the technical name source-twin \(a\/source-twin, b\/source-twin\)/)],
      ["source-tagless", "error", "data.dockerRepository", expect.stringMatching(/^is required: expected a Docker repository/)],
      ["source-tagless", "error", "data.dockerImageTag", expect.stringMatching(/^is required: expected a Docker tag/)],
      // source-community is not selected: its missing fields do not matter here.
      // source-typo's support level is unusable: it could not be selected.
      ["source-typo", "error", "data.supportLevel", expect.stringMatching(/^expected a support level .* got a list$/)],
    ]);
    // Selected without a Docker image: the variant has no example image.
    expect(report.withoutDockerfile).toEqual(["source-tagless"]);
    expect(report.variants).toEqual([expect.objectContaining({ count: 2, connectors: ["source-twin", "source-twin"] })]);
  });

  it("refuses a root that is not a folder", async () => {
    const error = await analyzeRepository(join(tmp, "does-not-exist")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorBuildError);
    expect((error as ConnectorBuildError).code).toBe("ANALYZE_FAILED");
    expect((error as Error).message).toMatch(/does-not-exist: cannot be read \(ENOENT\): expected the root of an Airbyte repository/);
  });

  // Correctness at scale only: speed is measured by `pnpm bench`, never asserted in tests.
  it("analyses a tree of 2,000 connectors", async () => {
    const root = join(tmp, "many");
    const variants = 37;
    for (let i = 0; i < 2000; i++) {
      const name = `source-generated-${String(i).padStart(4, "0")}`;
      const dir = join(root, CONNECTORS, name);
      const base = DOCKERFILE(name, `0.${i}.0`);
      writeConnector(dir, name, {
        supportLevel: i % 10 === 9 ? "community" : "certified",
        dockerfile: i % 25 === 24 ? null : `${base}ENV VARIANT=${i % variants}\n`,
      });
      writeFileSync(join(dir, "setup.py"), "from setuptools import setup\nsetup()\n");
      mkdirSync(join(dir, name.replaceAll("-", "_")));
      writeFileSync(join(dir, name.replaceAll("-", "_"), "__init__.py"), "");
    }
    const report = await analyzeRepository(root);
    expect(report.scanned).toBe(2000);
    expect(report.selected).toBe(1800);
    // Every 25th has no Dockerfile; one in two of those is a community connector.
    expect(report.withoutDockerfile.length).toBe(40);
    expect(report.variants).toHaveLength(variants);
    expect(report.variants.reduce((n, v) => n + v.count, 0)).toBe(1760);
  });
});
