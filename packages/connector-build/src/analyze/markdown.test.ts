import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyzeRepository, type DockerfileAnalysisReport } from "./analyze.ts";
import { renderAnalysisMarkdown } from "./markdown.ts";

const TREE = fileURLToPath(new URL("../../test/__fixtures__/connectors-tree/", import.meta.url));

describe("renderAnalysisMarkdown", () => {
  it("renders the fixture tree's report for a person", async () => {
    const markdown = renderAnalysisMarkdown(await analyzeRepository(TREE));
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("# Connector Dockerfile variants");
    expect(markdown).toContain("Selection: language `python`, `low-code`; support level `certified`.");
    expect(markdown).toContain("- 19 connectors found, 14 selected");
    expect(markdown).toContain("- 7 Dockerfile variants among 11 connectors with a Dockerfile");
    expect(markdown).toContain("- 2 connectors without a Dockerfile (already on the common build)");
    expect(markdown).toContain("- 1 unreadable Dockerfile");
    expect(markdown).toContain("- 1 problem (1 error, 0 warnings)");
    // The table: one row per variant, largest first.
    const header = lines.indexOf("| Variant | Connectors | Base images | Example |");
    expect(lines[header + 1]).toBe("| --- | ---: | --- | --- |");
    expect(lines[header + 2]).toBe(
      "| [`157c1f0`](#variant-157c1f0) | 3 | `127.0.0.1:5000/python:3.11-bookworm` | source-greenhouse (`airbyte/source-greenhouse:0.4.2`) |",
    );
    expect(lines.slice(header + 2, header + 9).every((l) => l.startsWith("| [`"))).toBe(true);
    expect(lines[header + 9]).toBe("");
    // Each variant's example in a fenced block, without the BOM or CR of the file.
    expect(markdown).toContain("### Variant 59d7c9c");
    expect(markdown).toContain(
      "Example: source-notion (`airbyte/source-notion:1.1.2`), `airbyte-integrations/connectors/source-notion/Dockerfile`:\n\n```dockerfile\nFROM python:3.9.11-alpine3.15 as base\n",
    );
    expect(markdown).toContain("```dockerfile\nFROM 127.0.0.1:5000/python:3.11-bookworm\n\n# Bash is installed");
    expect(markdown).not.toContain("\r");
    expect(markdown).not.toContain("\uFEFF");
    expect(markdown).toContain("## Connectors without a Dockerfile\n\n- source-sentry\n- source-shopify\n");
    expect(markdown).toMatch(/## Unreadable Dockerfiles\n\n- source-marketo: `airbyte-integrations\/connectors\/source-marketo\/Dockerfile`: not valid UTF-8/);
    expect(markdown).toMatch(/## Problems\n\n- \*\*error\*\* `airbyte-integrations\/connectors\/source-broken\/metadata\.yaml:4` \(source-broken\): YAML syntax error/);
    expect(markdown.endsWith("\n")).toBe(true);
  });

  it("escapes table cells and fences content holding backticks", () => {
    const report: DockerfileAnalysisReport = {
      criteria: { languages: ["python"], supportLevels: ["certified"] },
      scanned: 1,
      selected: 1,
      variants: [
        {
          id: "abcdef0",
          count: 1,
          connectors: ["source-x"],
          example: { connector: "source-x", dockerfile: "source-x/Dockerfile", content: "FROM a|b\nRUN echo ```\n" },
          baseImages: ["a|b"],
        },
      ],
      withoutDockerfile: [],
      unreadable: [],
      problems: [],
    };
    const markdown = renderAnalysisMarkdown(report);
    expect(markdown).toContain("| [`abcdef0`](#variant-abcdef0) | 1 | `a\\|b` | source-x |");
    expect(markdown).toContain("````dockerfile\nFROM a|b\nRUN echo ```\n````");
    expect(markdown).toContain("## Connectors without a Dockerfile\n\nNone.");
    expect(markdown).not.toContain("## Problems");
  });
});
