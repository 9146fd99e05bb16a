/**
 * A client of the OCI distribution API (https://github.com/opencontainers/distribution-spec), on plain
 * `fetch`: tags, digests, manifests and indexes, blobs, pushes. Works against Docker Hub, any
 * distribution-compatible registry, and the local `docker-registry` on loopback.
 *
 * References are image references as {@link splitImageReference} reads them:
 * `127.0.0.1:5000/python:3.11-bookworm@sha256:…`, `python:3.11` (→ `docker.io/library/python`).
 * Repositories are the same without tag or digest: `127.0.0.1:5000/python`, `docker.io/library/python`.
 *
 * Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to over http, every other one
 * over https; `docker.io` is served by `registry-1.docker.io`. Authentication: see `registry-auth.ts`.
 *
 * Every failure is a {@link RegistryError} (code `REGISTRY_ERROR`) naming the registry and URL, the
 * operation, the HTTP status and the registry's own error message, and what was expected.
 */
import type { Platform } from "@airbyte-ci/base-images";
import type { FetchedManifest, ImageConfig, ImagePlatform, IndexEntry, PutIndexOptions } from "./oci-types.ts";
import { RegistryReader, type ReadOptions } from "./read.ts";
import type { ParsedReference } from "./references.ts";
import { RegistrySession } from "./session.ts";
import type { RegistryClientOptions, RegistryTransport } from "./transport.ts";
import { RegistryWriter } from "./write.ts";

export { MEDIA_TYPES, type FetchedManifest, type IndexEntry } from "./oci-types.ts";
export { RegistryError } from "./registry-error.ts";
export type { RegistryClientOptions } from "./transport.ts";
export type { ReadOptions } from "./read.ts";

/**
 * A client of the OCI distribution API: one {@link RegistrySession} (transport, tokens, tag memory,
 * caches) with a reader and a writer on it. One instance is one run: it caches resolved tag digests
 * (until it changes them itself), manifests and configs by digest (immutable), and bearer tokens per
 * registry and scope (until they expire).
 */
export class RegistryClient {
  private readonly session: RegistrySession;
  private readonly reader: RegistryReader;
  private readonly writer: RegistryWriter;

  constructor(options: RegistryClientOptions = {}) {
    this.session = new RegistrySession(options);
    this.reader = new RegistryReader(this.session);
    this.writer = new RegistryWriter(this.session, this.reader);
  }

  /**
   * HTTP and authentication; shared by the read and write operations.
   * @internal
   */
  get transport(): RegistryTransport {
    return this.session.transport;
  }

  // Reads (registry/read.ts)

  /**
   * The digest `reference` points to, as the registry reports it (`Docker-Content-Digest`). For a tag,
   * that is the digest of whatever the registry serves for our Accept list (an index for a
   * multi-platform tag). Asks with HEAD; falls back to GET when HEAD carries no digest or fails.
   * `{ cached: false }` asks the registry even when this client knows the answer (e.g. what a tag
   * is after this client pushed it).
   */
  resolveDigest(reference: string, options: ReadOptions = {}): Promise<string> {
    return this.reader.resolveDigest(reference, options);
  }

  /** The manifest or index `reference` names, parsed, with its media type and verified digest; cached by digest. */
  getManifest(reference: string): Promise<FetchedManifest> {
    return this.reader.getManifest(reference);
  }

  /** True when `tag` exists in `repository`; false on 404. Other failures raise. */
  tagExists(repository: string, tag: string): Promise<boolean> {
    return this.reader.tagExists(repository, tag);
  }

  /** The bytes of a blob, verified against `digest`. Holds the blob in memory: meant for configs and small layers. */
  getBlob(repository: string, digest: string): Promise<Uint8Array> {
    return this.reader.getBlob(repository, digest);
  }

  /** The image config blob `digest` (a manifest's `config.digest`) of `repository`, parsed; cached per run. */
  getConfig(repository: string, digest: string): Promise<ImageConfig> {
    return this.reader.getConfig(repository, digest);
  }

  /**
   * Checks that `reference` is pinned by digest and is the single-platform manifest of `platform`;
   * returns the digest and the platform read from the image config.
   */
  assertPlatform(reference: string, platform: Platform): Promise<{ digest: string; platform: ImagePlatform }> {
    return this.reader.assertPlatform(reference, platform);
  }

  /**
   * The platform an image manifest's config states.
   * @internal
   */
  configPlatform(fetched: FetchedManifest & { kind: "manifest" }): Promise<ImagePlatform> {
    return this.reader.configPlatform(fetched);
  }

  // Writes (registry/write.ts)

  /** Checks that `repository` is reachable and accepts pushes with the credentials at hand; nothing is written. */
  checkPushAccess(repository: string): Promise<void> {
    return this.writer.checkPushAccess(repository);
  }

  /** True when blob `digest` exists in `repository`. */
  blobExists(repository: string, digest: string): Promise<boolean> {
    return this.writer.blobExists(repository, digest);
  }

  /** Mounts blob `digest` from `fromRepository` into `repository` on the same registry; false when the registry declined. */
  mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    return this.writer.mountBlob(repository, digest, fromRepository);
  }

  /** Uploads `data` as a blob of `repository` (monolithic upload) unless already there; returns its sha256 digest. */
  uploadBlob(repository: string, data: Uint8Array): Promise<string> {
    return this.writer.uploadBlob(repository, data);
  }

  /** Pushes a manifest or index under a tag or its digest; returns its digest. */
  putManifest(repository: string, tagOrDigest: string, body: Uint8Array | string | object, mediaType: string): Promise<string> {
    return this.writer.putManifest(repository, tagOrDigest, body, mediaType);
  }

  /** Assembles an index from per-platform manifests already in `repository` and pushes it under `tag`; returns its digest. */
  putIndex(repository: string, tag: string, manifests: readonly IndexEntry[], options: PutIndexOptions = {}): Promise<string> {
    return this.writer.putIndex(repository, tag, manifests, options);
  }

  /** Copies the manifest (or index and all its manifests) `source` into `targetRepository`, blobs included; returns the digest. */
  copyManifest(source: string, targetRepository: string, tag?: string): Promise<string> {
    return this.writer.copyManifest(source, targetRepository, tag);
  }

  /**
   * Records that `tag` of a repository now points to `digest` (after a push).
   * @internal
   */
  rememberTag(ref: ParsedReference, digest: string): void {
    this.session.rememberTag(ref, digest);
  }
}
