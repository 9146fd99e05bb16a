import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError } from "../errors.ts";
import { METADATA_FILE_NAME, readConnectorMetadata } from "../connector/metadata.ts";
import { withCleanupOnInterrupt } from "./signals.ts";
import { rebaseImages } from "../supply-chain/rebase.ts";
import { machineConcurrency } from "../shared/pool.ts";

/** Options of {@link rebaseCommand}. */
export interface RebaseCommandOptions {
  to: string;
  catalog?: string;
  engine?: EngineChoice;
  registry?: string;
  tag?: string;
  json?: boolean;
  sbom?: boolean;
  concurrency?: string;
  force?: boolean;
  checkBase?: boolean;
}

/** `<image-ref>` as given; `<connector-dir>` → `<registry>/<dockerRepository>:<dockerImageTag>` from its metadata.yaml. */
export async function rebaseTargets(args: readonly string[], registry: string | undefined): Promise<string[]> {
  const references: string[] = [];
  for (const arg of args) {
    if (existsSync(arg) && statSync(arg).isDirectory()) {
      if (!existsSync(join(arg, METADATA_FILE_NAME))) {
        throw new ConnectorBuildError("INVALID_CONNECTOR", `rebase: ${arg} is a directory without ${METADATA_FILE_NAME}: expected a connector folder or an image reference`);
      }
      if (registry === undefined) {
        throw new ConnectorBuildError("USAGE", `rebase: ${arg} is a connector folder: expected --registry <registry>[/<namespace>] saying where its image is published`);
      }
      const metadata = await readConnectorMetadata(arg);
      references.push(`${registry.replace(/\/+$/, "")}/${metadata.dockerRepository}:${metadata.dockerImageTag}`);
    } else {
      references.push(arg);
    }
  }
  return references;
}

/** `connector-build rebase <image-ref|connector-dir>... --to <version>`: prints each new index address (or JSON). */
export async function rebaseCommand(args: string[], opts: RebaseCommandOptions): Promise<void> {
  const concurrency = opts.concurrency === undefined ? machineConcurrency() : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConnectorBuildError("USAGE", `--concurrency '${opts.concurrency}': expected a positive integer`);
  const references = await rebaseTargets(args, opts.registry);
  const { catalog } = loadCatalog(opts.catalog);
  catalog.get(opts.to);
  const engine = await selectEngine(opts.engine ?? "auto");
  try {
    const results = await withCleanupOnInterrupt("the rebase", () => rebaseImages(references, {
      catalog,
      to: opts.to,
      engine,
      ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
      sbom: opts.sbom !== false,
      concurrency,
      force: opts.force === true,
      checkBase: opts.checkBase === true,
      log: (line) => process.stderr.write(`${line}\n`),
    }));
    if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else for (const r of results) process.stdout.write(`${r.changed ? `✓ ${r.from.version} → ${r.to.version}` : `= already on ${r.to.version}`} ${r.address}\n`);
  } finally {
    await engine.close();
  }
}
