import { resolve } from "node:path";
import { loadProductionCatalog, productionCatalogPath, type BaseImageCatalog } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { readCatalogFile } from "./catalog-file.ts";

/** The environment variable naming the catalog `--catalog local` stands for. */
export const LOCAL_CATALOG_ENV = "CONNECTOR_BUILD_LOCAL_CATALOG";

/** The catalog file `--catalog local` stands for: `$CONNECTOR_BUILD_LOCAL_CATALOG`, when set. */
export function findLocalCatalog(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[LOCAL_CATALOG_ENV];
  return value ? resolve(value) : undefined;
}

/** Resolves `--catalog production|local|<path>` to a file path. */
export function catalogPath(choice: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const value = choice ?? env.CONNECTOR_BUILD_CATALOG ?? "production";
  if (value === "production") return productionCatalogPath;
  if (value === "local") {
    const found = findLocalCatalog(env);
    if (!found) {
      throw new ConnectorBuildError(
        "CATALOG_NOT_FOUND",
        `--catalog local: ${LOCAL_CATALOG_ENV} is not set: expected it to name a local catalog JSON file (built on a local registry), or pass a catalog file path`,
      );
    }
    return found;
  }
  return resolve(value);
}

/** Loads a catalog by choice (`production`, `local` or a path), validated. */
export function loadCatalog(choice: string | undefined, env: NodeJS.ProcessEnv = process.env): { catalog: BaseImageCatalog; path: string } {
  const path = catalogPath(choice, env);
  if (path === productionCatalogPath) return { catalog: loadProductionCatalog(), path };
  return { catalog: readCatalogFile(path, ": expected production, local, or a catalog JSON file").catalog, path };
}
