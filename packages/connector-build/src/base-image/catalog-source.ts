import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadProductionCatalog, parseCatalog, productionCatalogPath, type BaseImageCatalog } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";

/** Relative location of the local fixture catalog written by scripts/env/setup.sh. */
export const LOCAL_CATALOG_RELATIVE = ".local/fixture/catalog.json";

/** Finds the local fixture catalog: `CONNECTOR_BUILD_LOCAL_CATALOG`, or `.local/fixture/catalog.json` in cwd or a parent. */
export function findLocalCatalog(from = process.cwd()): string | undefined {
  const env = process.env.CONNECTOR_BUILD_LOCAL_CATALOG;
  if (env) return resolve(env);
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, LOCAL_CATALOG_RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Resolves `--catalog production|local|<path>` to a file path. */
export function catalogPath(choice: string | undefined): string {
  const value = choice ?? process.env.CONNECTOR_BUILD_CATALOG ?? "production";
  if (value === "production") return productionCatalogPath;
  if (value === "local") {
    const found = findLocalCatalog();
    if (!found) {
      throw new ConnectorBuildError(
        "CATALOG_NOT_FOUND",
        `--catalog local: no ${LOCAL_CATALOG_RELATIVE} in ${process.cwd()} or its parents: run scripts/bootstrap.sh (it builds the fixture root image and writes it), or pass a catalog file path`,
      );
    }
    return found;
  }
  return resolve(value);
}

/** Loads a catalog by choice (`production`, `local` or a path), validated. */
export function loadCatalog(choice: string | undefined): { catalog: BaseImageCatalog; path: string } {
  const path = catalogPath(choice);
  if (path === productionCatalogPath) return { catalog: loadProductionCatalog(), path };
  if (!existsSync(path)) {
    throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} does not exist: expected production, local, or a catalog JSON file`);
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return { catalog: parseCatalog(data, path), path };
}
