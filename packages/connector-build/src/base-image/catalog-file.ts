import { existsSync } from "node:fs";
import { parseCatalog, type BaseImageCatalog, type BaseImageVersionData } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { NotRegularFileError, readRegularFileSync } from "../shared/regular-file.ts";

function readCatalogText(path: string): string {
  try {
    return readRegularFileSync(path).toString("utf8");
  } catch (error) {
    if (error instanceof NotRegularFileError) throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${error.message}`);
    if ((error as NodeJS.ErrnoException).code === "EISDIR") throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} is a directory: expected a catalog JSON file`);
    throw error;
  }
}

/**
 * Reads a catalog file: its exact bytes (to detect a concurrent change before writing) and the
 * validated catalog. A missing file is `CATALOG_NOT_FOUND`, a file that is not JSON
 * `CATALOG_INVALID_JSON`, a catalog that breaks the schema `INVALID_CATALOG`.
 */
export function readCatalogFile(path: string, missingHint = ""): { bytes: string; catalog: BaseImageCatalog } {
  if (!existsSync(path)) throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} does not exist${missingHint}`);
  const bytes = readCatalogText(path);
  let data: unknown;
  try {
    data = JSON.parse(bytes);
  } catch (error) {
    throw new ConnectorBuildError("CATALOG_INVALID_JSON", `catalog file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return { bytes, catalog: parseCatalog(data, path) };
}

/**
 * Records one version in the catalog file, atomically, provided the file still holds `bytesBefore`
 * (what the release read): a concurrent edit refuses the write and records nothing.
 */
export function recordVersion(path: string, bytesBefore: string, data: BaseImageVersionData, replace: boolean): void {
  const current = readCatalogText(path);
  if (current !== bytesBefore) {
    throw new ConnectorBuildError("RELEASE_REFUSED", `catalog ${path} changed while releasing ${data.version}: expected it unchanged; nothing was recorded`);
  }
  const { catalog } = readCatalogFile(path);
  const next = catalog.withVersion(data, { replace });
  writeFileAtomic(path, `${JSON.stringify(next.toJSON(), null, 2)}\n`);
}
