import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectorBuildError } from "../errors.ts";
import {
  connectorMetadataSchema,
  formatMetadataProblem,
  inspectConnectorMetadata,
  inspectConnectorMetadataSource,
  readConnectorMetadata,
} from "./metadata.ts";

const FIXTURES = fileURLToPath(new URL("../../test/__fixtures__/metadata/", import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);

/** The strict reader's error, asserted to be INVALID_METADATA. */
async function strictError(name: string): Promise<ConnectorBuildError> {
  const error = await readConnectorMetadata(fixture(name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorBuildError);
  expect((error as ConnectorBuildError).code).toBe("INVALID_METADATA");
  return error as ConnectorBuildError;
}

describe("readConnectorMetadata", () => {
  it("reads a real-world metadata.yaml", async () => {
    const metadata = await readConnectorMetadata(fixture("source-instagram"));
    expect(metadata).toMatchObject({
      technicalName: "source-instagram",
      dir: fixture("source-instagram"),
      metadataPath: join(fixture("source-instagram"), "metadata.yaml"),
      dockerRepository: "airbyte/source-instagram",
      dockerImageTag: "1.0.11",
      language: "python",
      supportLevel: "certified",
      baseImage:
        "docker.io/airbyte/python-connector-base:1.1.0@sha256:bd98f6505c6764b1b5f99d3aedc23dfc9e9af631a62533f60eb32b1d3dbab20c",
    });
    // Fields the schema does not know are kept.
    expect((metadata.raw["data"] as Record<string, unknown>)["ab_internal"]).toEqual({ sl: 200, ql: 400 });
    expect(metadata.raw["metadataSpecVersion"]).toBe("1.0");
  });

  it("takes the language from a language:<x> tag", async () => {
    const metadata = await readConnectorMetadata(fixture("source-pokeapi"));
    expect(metadata.language).toBe("low-code");
    expect(metadata.supportLevel).toBe("community");
    expect(metadata.baseImage).toBeUndefined();
  });

  it("reads a file with a BOM and CRLF line endings", async () => {
    const metadata = await readConnectorMetadata(fixture("source-bom-crlf"));
    expect(metadata).toMatchObject({ dockerRepository: "airbyte/source-bom-crlf", dockerImageTag: "1.0", language: "python" });
  });

  it("accepts empty optional fields as absent", async () => {
    const metadata = await readConnectorMetadata(fixture("source-repo-mismatch"));
    expect(metadata.supportLevel).toBeUndefined();
    expect(metadata.language).toBeUndefined();
  });

  it("requires dockerRepository and dockerImageTag, naming file, field and expectation", async () => {
    const error = await strictError("source-missing-fields");
    expect(error.message).toContain(join(fixture("source-missing-fields"), "metadata.yaml"));
    expect(error.message).toContain("data.dockerRepository: is required: expected a Docker repository such as airbyte/source-instagram");
    expect(error.message).toContain("data.dockerImageTag: is required: expected a Docker tag such as 1.0.11");
  });

  it("lists every wrongly typed field with its path", async () => {
    const error = await strictError("source-bad-types");
    const lines = error.message.split("\n").slice(1).map((l) => l.trim());
    expect(lines).toEqual([
      expect.stringMatching(/^data\.dockerRepository: "airbyte\/Source-Bad-Types:1\.0" is not a Docker repository: expected .*without tag or digest/),
      expect.stringMatching(/^data\.dockerImageTag: expected a Docker tag such as 1\.0\.11, got a number \(1\); .*quote it/),
      "data.supportLevel: expected a support level such as certified or community, got a list",
      expect.stringMatching(/^data\.tags\[1\]: expected a tag such as language:python, got a number \(3\)/),
      expect.stringMatching(/^data\.connectorBuildOptions\.baseImage: "python 3\.9" is not an image reference: expected \[registry\/\]repository/),
    ]);
  });

  it("refuses connectorBuildOptions that is not a mapping", async () => {
    const error = await strictError("source-build-options-string");
    expect(error.message).toContain('data.connectorBuildOptions: expected a mapping with a baseImage: key, got the string "docker.io/');
  });

  it("reports YAML syntax errors with their line", async () => {
    const error = await strictError("source-syntax-error");
    expect(error.message).toMatch(/metadata\.yaml:\n {2}line 5, column 3: YAML syntax error: Flow sequence/);
    const dup = await strictError("source-duplicate-key");
    expect(dup.message).toContain("line 4, column 3: YAML syntax error: Map keys must be unique");
  });

  it("refuses a data that is not a mapping, a missing data, an empty or scalar file", async () => {
    expect((await strictError("source-data-list")).message).toContain(
      "data: expected a mapping holding dockerRepository, dockerImageTag, supportLevel, tags…, got a list",
    );
    expect((await strictError("source-no-data")).message).toContain("data: is required: expected a mapping");
    expect((await strictError("source-empty")).message).toMatch(
      /metadata\.yaml: expected a mapping with a top-level data: key, got null/,
    );
    expect((await strictError("source-scalar")).message).toContain('got the string "just a string"');
  });

  it("says clearly when there is no metadata.yaml", async () => {
    const error = await strictError("source-no-metadata");
    expect(error.message).toBe(
      `${join(fixture("source-no-metadata"), "metadata.yaml")}: does not exist: expected the connector folder ${fixture("source-no-metadata")} to hold its metadata.yaml`,
    );
    const missingDir = await readConnectorMetadata(fixture("source-does-not-exist")).catch((e: unknown) => e);
    expect((missingDir as ConnectorBuildError).code).toBe("INVALID_METADATA");
  });

  it("does not throw on warnings", async () => {
    await expect(readConnectorMetadata(fixture("source-unpinned"))).resolves.toMatchObject({
      baseImage: "127.0.0.1:5000/python:3.11-bookworm",
    });
    await expect(readConnectorMetadata(fixture("source-data-language"))).resolves.toMatchObject({ language: "python" });
  });
});

describe("inspectConnectorMetadata (lenient)", () => {
  it("keeps the valid fields and reports the invalid ones", async () => {
    const inspection = await inspectConnectorMetadata(fixture("source-bad-types"));
    expect(inspection.metadata).toMatchObject({ technicalName: "source-bad-types", language: "python" });
    expect(inspection.metadata?.dockerRepository).toBeUndefined();
    expect(inspection.metadata?.dockerImageTag).toBeUndefined();
    expect(inspection.metadata?.supportLevel).toBeUndefined();
    expect(inspection.metadata?.baseImage).toBeUndefined();
    expect(inspection.problems.map((p) => [p.severity, p.field])).toEqual([
      ["error", "data.dockerRepository"],
      ["error", "data.dockerImageTag"],
      ["error", "data.supportLevel"],
      ["error", "data.tags[1]"],
      ["error", "data.connectorBuildOptions.baseImage"],
    ]);
  });

  it("reports an unusable file without metadata, with the YAML line", async () => {
    const inspection = await inspectConnectorMetadata(fixture("source-syntax-error"));
    expect(inspection.metadata).toBeUndefined();
    expect(inspection.problems).toEqual([
      expect.objectContaining({ severity: "error", line: 5, column: 3, message: expect.stringMatching(/^YAML syntax error: /) }),
    ]);
    expect(formatMetadataProblem(inspection.problems[0]!)).toMatch(/source-syntax-error\/metadata\.yaml:5:3: YAML syntax error/);
    const missing = await inspectConnectorMetadata(fixture("source-no-metadata"));
    expect(missing.metadata).toBeUndefined();
    expect(missing.problems[0]?.message).toMatch(/^does not exist/);
  });

  it("warns about a language disagreement, an unpinned base image, a repository not named after the folder", async () => {
    const language = await inspectConnectorMetadata(fixture("source-data-language"));
    expect(language.problems).toEqual([
      expect.objectContaining({ severity: "warning", field: "data.language", message: expect.stringContaining("language:low-code") }),
    ]);
    const unpinned = await inspectConnectorMetadata(fixture("source-unpinned"));
    expect(unpinned.problems).toEqual([
      expect.objectContaining({ severity: "warning", field: "data.connectorBuildOptions.baseImage", message: expect.stringContaining("not pinned by digest") }),
    ]);
    const mismatch = await inspectConnectorMetadata(fixture("source-repo-mismatch"));
    expect(mismatch.problems).toEqual([
      expect.objectContaining({ severity: "warning", field: "data.dockerRepository", message: expect.stringContaining("expected <namespace>/source-repo-mismatch") }),
    ]);
  });

  it("reports nothing for a clean file", async () => {
    expect((await inspectConnectorMetadata(fixture("source-instagram"))).problems).toEqual([]);
  });

  it("works on text in memory", () => {
    const inspection = inspectConnectorMetadataSource(
      "data:\n  dockerRepository: airbyte/source-x\n  dockerImageTag: '1.0'\n  tags: [language:python, language:java, 'language:']\n",
      "/somewhere/source-x",
    );
    expect(inspection.metadata).toMatchObject({ technicalName: "source-x", dir: "/somewhere/source-x", language: "python" });
    expect(inspection.problems.map((p) => p.message)).toEqual([
      "a language: tag has no value: expected e.g. language:python",
      "several language tags (python, java): expected one; using python",
    ]);
  });

  const tmp = mkdtempSync(join(tmpdir(), "metadata-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it("reports a metadata.yaml that is a directory", async () => {
    mkdirSync(join(tmp, "source-dir", "metadata.yaml"), { recursive: true });
    const inspection = await inspectConnectorMetadata(join(tmp, "source-dir"));
    expect(inspection.problems[0]?.message).toBe("is a directory: expected a metadata.yaml file");
  });
});

describe("connectorMetadataSchema", () => {
  it("passes unknown fields through", () => {
    const parsed = connectorMetadataSchema.parse({
      data: { dockerRepository: "airbyte/source-x", dockerImageTag: "0.1.0", name: "X", registries: { oss: { enabled: true } } },
      metadataSpecVersion: "1.0",
    });
    expect(parsed.data["name"]).toBe("X");
    expect(parsed["metadataSpecVersion"]).toBe("1.0");
  });

  it("accepts registry hosts with ports and digest-only references", () => {
    const data = (baseImage: string) => ({ data: { dockerRepository: "airbyte/source-x", dockerImageTag: "dev", connectorBuildOptions: { baseImage } } });
    expect(connectorMetadataSchema.safeParse(data("127.0.0.1:5000/python:3.11-bookworm")).success).toBe(true);
    expect(connectorMetadataSchema.safeParse(data(`airbyte/python-connector-base@sha256:${"a".repeat(64)}`)).success).toBe(true);
    expect(connectorMetadataSchema.safeParse(data("Python:3.11")).success).toBe(false);
  });

  it("a dockerRepository is lowercase namespace/name of at most 255 characters, naming no registry (issue #16, class 7)", () => {
    const problems = (dockerRepository: string) => {
      const result = connectorMetadataSchema.safeParse({ data: { dockerRepository, dockerImageTag: "1.0.0" } });
      return result.success ? [] : result.error.issues.map((i) => i.message);
    };
    expect(problems("airbyte/source-x")).toEqual([]);
    expect(problems("Airbyte/source-x")).toEqual(['"Airbyte/source-x" is not a Docker repository: expected lowercase namespace/name without tag or digest, e.g. airbyte/source-instagram']);
    expect(problems(`airbyte/${"x".repeat(250)}`)[0]).toMatch(/is 258 characters long: expected a Docker repository of at most 255/);
    expect(problems("ghcr.io/airbyte/source-x")).toEqual([
      '"ghcr.io/airbyte/source-x" names a registry (ghcr.io): expected namespace/name only, e.g. airbyte/source-instagram; the registry comes from --output registry:<registry>',
    ]);
    expect(problems("127.0.0.1:5000/airbyte/source-x")[0]).toMatch(/names a registry \(127\.0\.0\.1:5000\)/);
  });
});
