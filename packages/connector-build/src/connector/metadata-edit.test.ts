import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { setBaseImageInYaml } from "./metadata-edit.ts";

const ADDR = `127.0.0.1:5000/airbyte/python-connector-base:1.0.0@sha256:${"b".repeat(64)}`;

describe("setBaseImageInYaml", () => {
  it("changes only the value, keeping comments, quotes and formatting", () => {
    const source = [
      "# top comment",
      "data:",
      "  dockerRepository: airbyte/source-x   # trailing comment",
      "  connectorBuildOptions:",
      "    # why this base",
      `    baseImage: "docker.io/airbyte/python-connector-base:0.9.0@sha256:${"a".repeat(64)}" # pinned`,
      "  tags: [language:python, 'odd: spacing']",
      "",
    ].join("\n");
    const out = setBaseImageInYaml(source, ADDR);
    expect(out).toBe(source.replace(`docker.io/airbyte/python-connector-base:0.9.0@sha256:${"a".repeat(64)}`, ADDR));
    expect(parse(out).data.connectorBuildOptions.baseImage).toBe(ADDR);
  });

  it("inserts the key into an existing block, or the block into data, keeping CRLF", () => {
    const withBlock = "data:\r\n  connectorBuildOptions:\r\n    other: 1 # keep\r\n  name: x\r\n";
    const a = setBaseImageInYaml(withBlock, ADDR);
    expect(a).toBe(`data:\r\n  connectorBuildOptions:\r\n    baseImage: ${ADDR}\r\n    other: 1 # keep\r\n  name: x\r\n`);
    const noBlock = "# c\ndata:\n  name: x # n\n  tags:\n    - a\nmetadataSpecVersion: '1.0'\n";
    const b = setBaseImageInYaml(noBlock, ADDR);
    expect(parse(b).data.connectorBuildOptions.baseImage).toBe(ADDR);
    expect(b).toContain("# c\ndata:\n  name: x # n\n  tags:\n    - a\n");
    expect(b).toContain("metadataSpecVersion: '1.0'\n");
  });

  it("refuses broken YAML and a non-mapping data", () => {
    expect(() => setBaseImageInYaml("data: [unclosed\n", ADDR, "m.yaml")).toThrowError(/m\.yaml: YAML syntax error/);
    expect(() => setBaseImageInYaml("data: 3\n", ADDR, "m.yaml")).toThrowError(/data is missing or not a mapping/);
  });
});
