// A CI pipeline written against the library, not the CLI: the connectors changed since a git ref,
// this job's shard of them, built for every platform, verified, published to a registry, signed
// with SLSA provenance, and a result file per shard; a last job merges the shards' results into one
// Markdown job summary. `ci.yml` beside this file shows the shard matrix.
//
//   tsx pipeline.ts build --root <repo> --since origin/main --shard 1/4 --registry <host>[/<ns>] \
//       --sign-key cosign.key --results results/shard-1.json [--catalog <file>] [--platform linux/amd64,linux/arm64]
//   tsx pipeline.ts report results/*.json --summary summary.md
//
// Only the public entry of @airbyte-ci/connector-build is imported.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  RegistryClient,
  buildConnectors,
  exitCodeFor,
  loadCatalog,
  loadSigningKey,
  readBuildResults,
  renderFleetMarkdown,
  selectEngine,
  selectFleet,
  summarize,
  type ConnectorBuildResult,
} from "@airbyte-ci/connector-build";
import { parsePlatformList } from "@airbyte-ci/base-images";

/** One shard: select, build, verify, publish, sign; the results go to a JSON file for the report job. */
export async function buildShard(argv: readonly string[]): Promise<ConnectorBuildResult[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      root: { type: "string", default: "." },
      since: { type: "string" },
      shard: { type: "string", default: "1/1" },
      registry: { type: "string" },
      "sign-key": { type: "string" },
      catalog: { type: "string" },
      platform: { type: "string", default: "linux/amd64" },
      results: { type: "string" },
    },
  });
  if (values.registry === undefined || values.results === undefined) throw new Error("build: --registry <host>[/<namespace>] and --results <file> are required");
  // Every input is checked before any work: the key (COSIGN_PASSWORD for cosign's encrypted keys), the platforms, the catalog.
  const signKey = values["sign-key"] !== undefined ? loadSigningKey(values["sign-key"], { password: process.env.COSIGN_PASSWORD, option: "--sign-key" }) : undefined;
  const platforms = parsePlatformList(values.platform, "--platform");
  const { catalog } = loadCatalog(values.catalog);
  const selection = await selectFleet([values.root], { modified: true, ...(values.since !== undefined ? { since: values.since } : {}), shard: values.shard });
  for (const line of selection.explanation) console.error(line);
  const registry = new RegistryClient();
  const engine = await selectEngine("docker", { registry });
  try {
    const results =
      selection.dirs.length === 0
        ? []
        : await buildConnectors(selection.dirs, {
            engine,
            catalog,
            platforms,
            output: { kind: "registry", prefix: values.registry },
            registry,
            ...(signKey !== undefined ? { signKey } : {}),
            ...(process.env.AIRBYTE_CI_PIP_INDEX_URL ? { pipIndex: { indexUrl: process.env.AIRBYTE_CI_PIP_INDEX_URL } } : {}),
            onDone: (r) => console.error(`${r.status === "success" ? "✓" : "✗"} ${r.connector} ${r.output?.reference ?? r.error?.message ?? ""}`),
          });
    mkdirSync(dirname(values.results), { recursive: true });
    writeFileSync(values.results, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    await engine.close();
  }
}

/** The report job: every shard's results merged (a connector built twice is an error), one Markdown summary. */
export async function mergeReports(argv: readonly string[]): Promise<string> {
  const { values, positionals } = parseArgs({ args: [...argv], options: { summary: { type: "string" } }, allowPositionals: true });
  const results = await readBuildResults(positionals);
  const markdown = renderFleetMarkdown(results);
  if (values.summary !== undefined) writeFileSync(values.summary, markdown);
  const totals = summarize(results);
  console.error(`${totals.built} built, ${totals.cached} cached, ${totals.failed} failed`);
  if (totals.failed > 0) process.exitCode = 1;
  return markdown;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "build") {
    const results = await buildShard(rest);
    if (results.some((r) => r.status === "failed")) process.exitCode = 1;
  } else if (command === "report") {
    process.stdout.write(await mergeReports(rest));
  } else {
    console.error("usage: pipeline.ts build --registry <host> --results <file> [...] | pipeline.ts report <results.json>... [--summary <file>]");
    process.exitCode = 2;
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = exitCodeFor(error);
  });
}
