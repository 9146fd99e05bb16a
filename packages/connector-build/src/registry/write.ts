// The write side of a registry session: blob checks, mounts and uploads, manifest and index pushes,
// copies. Uses the session's transport and tag memory, and a reader for what it must check first.
import { TAG_PATTERN } from "@airbyte-ci/base-images";
import { MEDIA_TYPES, type Descriptor, type IndexEntry, type PutIndexOptions } from "./oci-types.ts";
import { assertWellFormedDigest, computeDigest, formatImagePlatform, isWellFormedDigest, platformMatches, toImagePlatform } from "./platforms.ts";
import type { RegistryReader } from "./read.ts";
import { parseReference, parseRepository } from "./references.ts";
import { RegistryError } from "./registry-error.ts";
import type { RegistrySession } from "./session.ts";
import { registryApiBase, scopeFor } from "./transport.ts";

/** Writes to registries through one {@link RegistrySession}; reads what it checks with `reader` (same session). */
export class RegistryWriter {
  constructor(
    private readonly session: RegistrySession,
    private readonly reader: RegistryReader,
  ) {}

  /** True when blob `digest` exists in `repository`. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const repo = parseRepository(repository, "check a blob");
    assertWellFormedDigest(digest, `check blob of ${repository}`);
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/${digest}`;
    const res = await this.session.transport.send({
      operation: `check whether blob ${digest} exists in ${repository}`,
      expected: "200 (exists) or 404 (does not)",
      registry: repo.registry,
      method: "HEAD",
      url,
      scopes: [scopeFor(repo.repository, "pull")],
      ok: [200, 404],
    });
    return res.status === 200;
  }

  /**
   * Mounts blob `digest` from `fromRepository` into `repository` on the same registry, without
   * transferring it. True when mounted; false when the registry declined (it then opened an upload
   * session, which is cancelled): the caller uploads the blob instead.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const repo = parseRepository(repository, "mount a blob");
    const from = parseRepository(fromRepository, "mount a blob");
    assertWellFormedDigest(digest, `mount blob into ${repository}`);
    if (from.registry !== repo.registry) {
      throw new RegistryError(
        "INVALID_REFERENCE",
        `mount blob ${digest} from ${fromRepository} into ${repository}: the repositories are on different registries (${from.registry}, ${repo.registry}): expected the same registry; copy the blob instead`,
      );
    }
    const url = new URL(`${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/uploads/`);
    url.searchParams.set("mount", digest);
    url.searchParams.set("from", from.repository);
    const res = await this.session.transport.send({
      operation: `mount blob ${digest} from ${from.repository} into ${repository}`,
      expected: "201 (mounted) or 202 (upload session instead)",
      registry: repo.registry,
      method: "POST",
      url: url.toString(),
      scopes: [scopeFor(repo.repository, "pull,push"), scopeFor(from.repository, "pull")],
      ok: [201, 202],
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    const location = res.headers.get("location");
    if (location !== null) {
      const session = new URL(location, url).toString();
      await this.session.transport.send({
        operation: `cancel the upload session opened instead of mounting ${digest}`,
        expected: "the session to be cancelled",
        registry: repo.registry,
        method: "DELETE",
        url: session,
        scopes: [scopeFor(repo.repository, "pull,push")],
        ok: [200, 202, 204, 404, 405],
      }).then((r) => r.body?.cancel());
    }
    return false;
  }

  /** Uploads `data` as a blob of `repository` (monolithic upload) unless already there; returns its sha256 digest. */
  async uploadBlob(repository: string, data: Uint8Array): Promise<string> {
    const repo = parseRepository(repository, "upload a blob");
    const digest = computeDigest(data);
    if (await this.blobExists(repository, digest)) return digest;
    const start = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/uploads/`;
    const scopes = [scopeFor(repo.repository, "pull,push")];
    const opened = await this.session.transport.send({
      operation: `start uploading blob ${digest} to ${repository}`,
      expected: "202 with a Location to upload to",
      registry: repo.registry,
      method: "POST",
      url: start,
      scopes,
      ok: [202],
    });
    await opened.body?.cancel();
    const location = opened.headers.get("location");
    if (location === null) {
      throw new RegistryError("HTTP_STATUS", `Registry ${repo.registry}: POST ${start} answered 202 without a Location header: expected the upload URL`, {
        registry: repo.registry,
        url: start,
        status: opened.status,
      });
    }
    const put = new URL(location, start);
    put.searchParams.set("digest", digest);
    const res = await this.session.transport.send({
      operation: `upload blob ${digest} (${data.byteLength} bytes) to ${repository}`,
      expected: "201 Created",
      registry: repo.registry,
      method: "PUT",
      url: put.toString(),
      scopes,
      contentType: "application/octet-stream",
      body: data,
      ok: [201, 204],
      blob: true,
    });
    await res.body?.cancel();
    const announced = res.headers.get("docker-content-digest");
    if (announced !== null && announced !== digest) {
      throw new RegistryError("DIGEST_MISMATCH", `Registry ${repo.registry}: PUT ${put} stored the blob as ${announced}: expected ${digest}`, {
        registry: repo.registry,
        url: put.toString(),
        status: res.status,
      });
    }
    return digest;
  }

  /**
   * Pushes a manifest or index under a tag or its digest; returns its digest (sha256 of the exact
   * bytes, checked against what the registry reports). Objects are serialised with `JSON.stringify`.
   */
  async putManifest(repository: string, tagOrDigest: string, body: Uint8Array | string | object, mediaType: string): Promise<string> {
    const repo = parseRepository(repository, "push a manifest");
    const bytes =
      body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
    const byDigest = tagOrDigest.includes(":");
    if (byDigest) assertWellFormedDigest(tagOrDigest, `push manifest to ${repository}`);
    else if (!TAG_PATTERN.test(tagOrDigest)) {
      throw new RegistryError("INVALID_REFERENCE", `push manifest to ${repository}: malformed tag '${tagOrDigest}': expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} or a digest`);
    }
    const digest = computeDigest(bytes, byDigest ? tagOrDigest : "sha256:");
    if (byDigest && digest !== tagOrDigest) {
      throw new RegistryError("DIGEST_MISMATCH", `push manifest to ${repository}@${tagOrDigest}: the body hashes to ${digest}: expected the digest it is pushed under`);
    }
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${tagOrDigest}`;
    const res = await this.session.transport.send({
      operation: `push a ${mediaType} to ${repository}:${tagOrDigest}`,
      expected: "201 Created",
      registry: repo.registry,
      method: "PUT",
      url,
      scopes: [scopeFor(repo.repository, "pull,push")],
      contentType: mediaType,
      body: bytes,
      ok: [200, 201, 202],
    });
    await res.body?.cancel();
    const announced = res.headers.get("docker-content-digest");
    if (announced !== null && isWellFormedDigest(announced) && announced !== computeDigest(bytes, announced)) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Registry ${repo.registry}: PUT ${url} stored the manifest as ${announced}: expected ${digest}, the sha256 of the bytes sent`,
        { registry: repo.registry, url, status: res.status },
      );
    }
    if (!byDigest) this.session.rememberTag({ ...repo, tag: tagOrDigest }, digest);
    return digest;
  }

  /**
   * Assembles an index from per-platform manifests already in `repository` and pushes it under `tag`;
   * returns its digest. Each entry is checked first: it must exist in the repository with the stated
   * size and media type, be a single-platform manifest and (unless `verifyPlatforms: false`) have an
   * image config of the stated platform. Platforms must be distinct.
   */
  async putIndex(repository: string, tag: string, manifests: readonly IndexEntry[], options: PutIndexOptions = {}): Promise<string> {
    const repo = parseRepository(repository, "push an index");
    const where = `push index ${repository}:${tag}`;
    if (manifests.length === 0) {
      throw new RegistryError("INVALID_REFERENCE", `${where}: no manifests given: expected at least one per-platform manifest`);
    }
    const platforms = new Set<string>();
    const entries: Descriptor[] = [];
    for (const entry of manifests) {
      assertWellFormedDigest(entry.digest, where);
      const platform = toImagePlatform(entry.platform);
      const platformText = formatImagePlatform(platform);
      if (platforms.has(platformText)) {
        throw new RegistryError("INVALID_REFERENCE", `${where}: platform ${platformText} is listed twice: expected one manifest per platform`);
      }
      platforms.add(platformText);
      const fetched = await this.reader.getManifest(`${repo.registry}/${repo.repository}@${entry.digest}`);
      if (fetched.kind !== "manifest") {
        throw new RegistryError("IS_INDEX", `${where}: ${entry.digest} (${platformText}) is itself an index: expected a single-platform manifest`, { registry: repo.registry });
      }
      if (fetched.size !== entry.size || fetched.mediaType !== entry.mediaType) {
        throw new RegistryError(
          "INVALID_MANIFEST",
          `${where}: entry ${entry.digest} (${platformText}) says ${entry.mediaType}, ${entry.size} bytes, but the registry holds ${fetched.mediaType}, ${fetched.size} bytes: expected them equal`,
          { registry: repo.registry },
        );
      }
      if (options.verifyPlatforms !== false) {
        const actual = await this.reader.configPlatform(fetched);
        if (!platformMatches(actual, platform)) {
          throw new RegistryError(
            "PLATFORM_MISMATCH",
            `${where}: entry ${entry.digest} is listed as ${platformText} but its image config says ${formatImagePlatform(actual)}: expected the manifest of ${platformText}`,
            { registry: repo.registry },
          );
        }
      }
      entries.push({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size, platform });
    }
    const allDocker = entries.every((e) => e.mediaType === MEDIA_TYPES.dockerManifest);
    const format = options.format === undefined || options.format === "auto" ? (allDocker ? "docker" : "oci") : options.format;
    if (format === "docker" && !allDocker) {
      throw new RegistryError("INVALID_MANIFEST", `${where}: a Docker manifest list can only list Docker schema 2 manifests: expected format "oci" for OCI manifests`);
    }
    const mediaType = format === "docker" ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.ociIndex;
    const index = {
      schemaVersion: 2,
      mediaType,
      manifests: entries.map((e) => ({ mediaType: e.mediaType, digest: e.digest, size: e.size, platform: e.platform })),
      ...(format === "oci" && options.annotations !== undefined ? { annotations: options.annotations } : {}),
    };
    const body = JSON.stringify(index);
    return this.putManifest(repository, options.untagged ? computeDigest(new TextEncoder().encode(body)) : tag, body, mediaType);
  }

  /**
   * Copies the manifest (or index and all its manifests) `source` into `targetRepository`, blobs
   * included: mounted when on the same registry, else downloaded and uploaded (in memory). Pushed
   * under `tag` when given, else by digest. Returns the digest, which is the source's.
   */
  async copyManifest(source: string, targetRepository: string, tag?: string): Promise<string> {
    const src = parseReference(source, "copy a manifest");
    const dst = parseRepository(targetRepository, "copy a manifest");
    const fetched = await this.reader.getManifest(source);
    const srcRepo = `${src.registry}/${src.repository}`;
    if (fetched.kind === "index") {
      for (const child of fetched.manifest.manifests) {
        await this.copyManifest(`${srcRepo}@${child.digest}`, targetRepository);
      }
    } else {
      for (const blob of [fetched.manifest.config, ...fetched.manifest.layers]) {
        if (blob.urls !== undefined && blob.urls.length > 0) continue; // foreign layer
        if (await this.blobExists(targetRepository, blob.digest)) continue;
        if (src.registry === dst.registry && (await this.mountBlob(targetRepository, blob.digest, srcRepo))) continue;
        await this.uploadBlob(targetRepository, await this.reader.getBlob(srcRepo, blob.digest));
      }
    }
    return this.putManifest(targetRepository, tag ?? fetched.digest, fetched.bytes, fetched.mediaType);
  }

  /**
   * Checks, before any build, that `repository` is reachable and accepts pushes with the credentials
   * at hand: opens a blob upload (what a push does first) and cancels it. Nothing is written.
   */
  async checkPushAccess(repository: string): Promise<void> {
    const repo = parseRepository(repository, "check push access");
    const start = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/uploads/`;
    const opened = await this.session.transport.send({
      operation: `check that ${repository} accepts pushes (open a blob upload)`,
      expected: "202: the registry is reachable and the credentials may push",
      registry: repo.registry,
      method: "POST",
      url: start,
      scopes: [scopeFor(repo.repository, "pull,push")],
      ok: [202],
    });
    await opened.body?.cancel();
    const location = opened.headers.get("location");
    if (location === null) return;
    // Cancel the empty upload; a registry that does not support cancelling lets it expire.
    await this.session.transport
      .send({
        operation: `cancel the check upload in ${repository}`,
        expected: "204",
        registry: repo.registry,
        method: "DELETE",
        url: new URL(location, start).toString(),
        scopes: [scopeFor(repo.repository, "pull,push")],
        ok: [200, 202, 204, 404, 405],
      })
      .then((res) => res.body?.cancel())
      .catch(() => undefined);
  }
}
