import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCatalog, type CatalogData } from "@airbyte-ci/base-images";
import { migrateConnector } from "./migrate.ts";
import { planDockerfile } from "./plan-dockerfile.ts";
import { parseDockerfileInstructions, parseEnvArgs } from "../dockerfile/parse.ts";

const SEED = join(import.meta.dirname, "../../test/__fixtures__/connectors-tree-seed/airbyte-integrations/connectors");
const D = `sha256:${"c".repeat(64)}`;
const catalog = parseCatalog({
  name: "test",
  repository: "127.0.0.1:5000/airbyte/python-connector-base",
  versions: [
    { version: "1.0.0", changelog: "a", rootImages: { "linux/amd64": `127.0.0.1:5000/python:3.11-bookworm@${D}` }, recipe: [], sanityChecks: [], published: { digest: D } },
    { version: "1.1.0-rc.1", changelog: "b", rootImages: { "linux/amd64": `127.0.0.1:5000/python:3.11-bookworm@${D}` }, recipe: [], sanityChecks: [], published: { digest: `sha256:${"d".repeat(64)}` } },
  ],
} satisfies CatalogData);

function copySeed(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "migrate-")), name);
  cpSync(join(SEED, name), dir, { recursive: true });
  return dir;
}

describe("Dockerfile parsing", () => {
  it("joins continuations, drops comments, reads both ENV forms", () => {
    const instructions = parseDockerfileInstructions("FROM x\n# c\nRUN a \\\n  # inner\n  && b\r\nENV A \"python /x.py\"\nENV B=1 C=\"two words\"\n");
    expect(instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ["FROM", "x", 1],
      ["RUN", "a && b", 3],
      ["ENV", 'A "python /x.py"', 6],
      ["ENV", 'B=1 C="two words"', 7],
    ]);
    expect(parseEnvArgs('A "python /x.py"')).toEqual([["A", "python /x.py"]]);
    expect(parseEnvArgs('B=1 C="two words"')).toEqual([["B", "1"], ["C", "two words"]]);
  });
});

describe("planDockerfile on the seed's three variants", () => {
  it.each(["source-instagram", "source-notion", "source-twilio"])("%s is fully covered by the common build", (name) => {
    const plan = planDockerfile(readFileSync(join(SEED, name, "Dockerfile"), "utf8"), name);
    expect(plan.refusals).toEqual([]);
    expect(plan.mainFileName).toBe("main.py");
    expect(plan.extraEnv).toEqual([]);
  });

  it("keeps what the common build does not do, and refuses what it cannot express", () => {
    const dockerfile = [
      "FROM python:3.9-slim",
      "WORKDIR /airbyte/integration_code",
      "COPY setup.py ./",
      "RUN pip install .",
      "COPY source_zendesk_chat ./source_zendesk_chat",
      "COPY main_dev.py ./",
      "ENV AIRBYTE_IMPL_MODULE=source_zendesk_chat AIRBYTE_IMPL_PATH=SourceZendeskChat",
      'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main_dev.py"',
      'ENTRYPOINT ["python", "/airbyte/integration_code/main_dev.py"]',
    ].join("\n");
    const plan = planDockerfile(dockerfile, "source-zendesk-chat");
    expect(plan.refusals).toEqual([]);
    expect(plan.mainFileName).toBe("main_dev.py");
    expect(plan.extraEnv).toEqual([["AIRBYTE_IMPL_MODULE", "source_zendesk_chat"], ["AIRBYTE_IMPL_PATH", "SourceZendeskChat"]]);
    const refused = planDockerfile(`${dockerfile}\nRUN apt-get install -y libpq-dev\nUSER airbyte\nCOPY secrets.json ./\n`, "source-zendesk-chat");
    expect(refused.refusals).toHaveLength(3);
    expect(refused.refusals.join("\n")).toMatch(/line 10 'RUN apt-get install -y libpq-dev': runs 'apt-get install -y libpq-dev'/);
    expect(refused.refusals.join("\n")).toMatch(/line 11 'USER airbyte': the image runs as airbyte, but the target base image runs connectors as root/);
    expect(refused.refusals.join("\n")).toMatch(/copies secrets\.json/);
  });
});

describe("migrateConnector", () => {
  it("--dry-run prints the diff and changes nothing", async () => {
    const dir = copySeed("source-twilio");
    const before = readFileSync(join(dir, "metadata.yaml"), "utf8");
    const result = await migrateConnector(dir, catalog, { dryRun: true });
    expect(result.diff).toContain(`+    baseImage: 127.0.0.1:5000/airbyte/python-connector-base:1.0.0@${D}`);
    expect(result.diff).toMatch(/\+\+\+ \/dev\/null/);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).toBe(before);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);
  });

  it("migrates: latest stable base image, patch bump, Dockerfile deleted, comments kept", async () => {
    const dir = copySeed("source-twilio");
    const before = readFileSync(join(dir, "metadata.yaml"), "utf8");
    const result = await migrateConnector(dir, catalog);
    expect(result.baseImageVersion).toBe("1.0.0");
    const after = readFileSync(join(dir, "metadata.yaml"), "utf8");
    expect(after).toContain(`baseImage: 127.0.0.1:5000/airbyte/python-connector-base:1.0.0@${D}`);
    expect(result.newVersion).not.toBe(undefined);
    for (const comment of before.split("\n").filter((l) => l.trim().startsWith("#"))) expect(after).toContain(comment);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(false);
    expect(existsSync(join(dir, "build_customization.ts"))).toBe(false);
    await expect(migrateConnector(dir, catalog)).rejects.toThrowError(/no Dockerfile .*already on the common build/);
  });

  it("refuses with reasons and writes nothing", async () => {
    const dir = copySeed("source-instagram");
    writeFileSync(join(dir, "Dockerfile"), `${readFileSync(join(dir, "Dockerfile"), "utf8")}\nRUN apt-get install -y libpq-dev\n`);
    const before = readFileSync(join(dir, "metadata.yaml"), "utf8");
    await expect(migrateConnector(dir, catalog)).rejects.toThrowError(/cannot migrate .*Dockerfile to the common build:\n {2}line \d+ 'RUN apt-get install -y libpq-dev'/);
    expect(readFileSync(join(dir, "metadata.yaml"), "utf8")).toBe(before);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
