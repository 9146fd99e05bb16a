import { SUPPORTED_PLATFORMS, parseCatalog, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import type { ReleaseRegistry } from "./build-check-publish.ts";
import type { PipIndexOptions } from "../connector/pip-index.ts";
import { buildCheckPublish, type Log, type ReleaseResult } from "./build-check-publish.ts";
import { lockCatalog } from "./catalog-lock.ts";
import { readCatalogFile, recordVersion } from "./catalog-file.ts";
import { deriveVersion, nextVersion, type ReleaseBump } from "./next-version.ts";

export type { ReleaseResult } from "./build-check-publish.ts";
export type { ReleaseBump } from "./next-version.ts";

/** Options of {@link releaseBaseImage}. */
export interface ReleaseOptions {
  readonly catalogPath: string;
  readonly engine: Engine;
  readonly bump: ReleaseBump;
  readonly changelog: string;
  /** `registry/repository` to publish to. Default: the catalog's repository. */
  readonly publishTo?: string;
  /** Root image per platform to move to. Default: the latest version's. */
  readonly rootImages?: Partial<Record<Platform, string>>;
  /** Overwrite a version already in the catalog or a tag already in the registry. */
  readonly force?: boolean;
  /** Package index for the dependency installs of the build, passed as build secrets. Default: pip's own (PyPI). */
  readonly pipIndex?: PipIndexOptions;
  readonly log?: Log;
  /** Registry client used to check tags and root images and to read the published digest back. Default: a new client. */
  readonly registry?: ReleaseRegistry;
  /** Aborts the release between steps (the CLI aborts it on SIGINT/SIGTERM); nothing is recorded then. */
  readonly signal?: AbortSignal;
}

/**
 * Releases the next base image version: computes it, builds every platform, runs every sanity check
 * on every platform, publishes one multi-platform index, reads its digest back from the registry,
 * and only then records the version in the catalog (atomically). Any failure or interruption before
 * that leaves the catalog byte-for-byte unchanged and the version tag unpublished.
 */
export async function releaseBaseImage(options: ReleaseOptions): Promise<ReleaseResult> {
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const unlock = lockCatalog(options.catalogPath);
  try {
    const { bytes, catalog } = readCatalogFile(options.catalogPath);
    const latest = catalog.latest();
    if (latest && !latest.published) {
      throw new ConnectorBuildError(
        "RELEASE_REFUSED",
        `the catalog's latest version ${latest.version} is not published: expected it published before releasing the next one (connector-build base publish ${latest.version})`,
      );
    }
    const version = nextVersion(catalog, options.bump);
    if (catalog.find(version) && !options.force) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `version ${version} is already in the catalog: expected a new version (or --force to overwrite)`);
    }
    const repository = (options.publishTo ?? catalog.repository).replace(/\/+$/, "");
    if (!options.force && (await client.tagExists(repository, version))) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `${repository}:${version} is already published: expected an unused tag (or --force to overwrite)`);
    }
    const data = deriveVersion(latest as BaseImageVersion, version, options.changelog, options.rootImages);
    for (const platform of Object.keys(data.rootImages)) {
      if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(platform)) throw new ConnectorBuildError("USAGE", `unknown platform ${platform}`);
    }
    const candidate = parseCatalog({ ...catalog.toJSON(), versions: [...catalog.toJSON().versions.filter((v) => v.version !== version), data] }).get(version);
    log(`releasing ${catalog.name} ${version} (${options.bump} from ${latest?.version})`);
    const result = await buildCheckPublish(options.engine, candidate, repository, client, log, options.signal, "run the same release again with --force: it rebuilds, overwrites the tag and records it", options.pipIndex);
    recordVersion(
      options.catalogPath,
      bytes,
      { ...data, published: publishedRecord(result.digest, repository, catalog.repository), dockerfiles: result.dockerfiles },
      options.force ?? false,
    );
    log(`recorded ${version} (${result.digest}) in ${options.catalogPath}`);
    return result;
  } finally {
    unlock();
  }
}

/**
 * What the catalog records of a publication: the digest the registry reported, and the repository
 * when it is not the catalog's (`--publish-to`), so that the recorded address resolves.
 */
function publishedRecord(digest: string, repository: string, catalogRepository: string): { digest: string; publishedAt: string; repository?: string } {
  const canonical = (r: string) => r.replace(/\/+$/, "");
  return { digest, publishedAt: new Date().toISOString(), ...(canonical(repository) !== canonical(catalogRepository) ? { repository } : {}) };
}

/** Publishes a recorded but unpublished version and records its digest. */
export async function publishBaseImage(options: {
  catalogPath: string;
  engine: Engine;
  version: string;
  publishTo?: string;
  force?: boolean;
  /** Package index for the dependency installs of the build, passed as build secrets. Default: pip's own (PyPI). */
  pipIndex?: PipIndexOptions;
  log?: Log;
  registry?: ReleaseRegistry;
  signal?: AbortSignal;
}): Promise<ReleaseResult> {
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const unlock = lockCatalog(options.catalogPath);
  try {
    const { bytes, catalog } = readCatalogFile(options.catalogPath);
    const version = catalog.get(options.version);
    if (version.published && !options.force) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `version ${version.version} is already published as ${version.publishedAddress}: expected an unpublished version (or --force)`);
    }
    const repository = (options.publishTo ?? catalog.repository).replace(/\/+$/, "");
    if (!options.force && (await client.tagExists(repository, version.version))) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `${repository}:${version.version} already exists in the registry: expected an unused tag (or --force to overwrite)`);
    }
    const result = await buildCheckPublish(options.engine, version, repository, client, log, options.signal, `run connector-build base publish ${version.version}${options.publishTo ? ` --publish-to ${repository}` : ""} --force`, options.pipIndex);
    recordVersion(
      options.catalogPath,
      bytes,
      { ...version.data, published: publishedRecord(result.digest, repository, catalog.repository), dockerfiles: result.dockerfiles },
      true,
    );
    log(`recorded ${version.version} (${result.digest}) in ${options.catalogPath}`);
    return result;
  } finally {
    unlock();
  }
}
