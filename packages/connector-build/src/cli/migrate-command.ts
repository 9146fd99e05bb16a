import { loadCatalog } from "../base-image/catalog-source.ts";
import { migrateConnector } from "../migrate/migrate.ts";

export async function migrateCommand(dir: string, opts: { catalog?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const { catalog } = loadCatalog(opts.catalog);
  const result = await migrateConnector(dir, catalog, { dryRun: opts.dryRun ?? false });
  if (opts.json) {
    const { metadataBefore: _b, metadataAfter: _a, ...rest } = result;
    process.stdout.write(`${JSON.stringify({ ...rest, dryRun: opts.dryRun ?? false }, null, 2)}\n`);
    return;
  }
  if (opts.dryRun) process.stdout.write(result.diff);
  process.stderr.write(
    `${opts.dryRun ? "would migrate" : "migrated"} ${result.connector} to the common build on base image ${result.baseImageVersion} (version ${result.newVersion}${
      result.buildCustomization ? ", with build_customization.ts" : ""
    })\n`,
  );
}
