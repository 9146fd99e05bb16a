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
import { createHash } from "node:crypto";
import { isDigest, splitImageReference } from "@airbyte-ci/base-images";
import type { Platform } from "@airbyte-ci/base-images";
import { z } from "zod";
import { ConnectorBuildError } from "../errors.ts";
import {
  canonicalRegistryHost,
  isLoopbackHost,
  mergeScopes,
  parseAuthChallenge,
  resolveRegistryCredentials,
} from "./registry-auth.ts";
import type { AuthChallenge, CredentialsOption, ResolvedCredentials } from "./registry-auth.ts";

/** Manifest media types the client reads and writes. */
export const MEDIA_TYPES = {
  /** OCI image index (multi-platform). */
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** OCI image manifest (one platform). */
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  /** Docker manifest list (multi-platform). */
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image manifest, schema 2 (one platform). */
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const ACCEPT_MANIFESTS = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(", ");

/** Why a {@link RegistryError} was raised. */
export type RegistryErrorReason =
  /** The reference or argument is malformed. */
  | "INVALID_REFERENCE"
  /** The registry could not be reached (connection refused, DNS, TLS, reset). */
  | "UNREACHABLE"
  /** The registry did not answer in time. */
  | "TIMEOUT"
  /** The registry answered with an unexpected HTTP status. */
  | "HTTP_STATUS"
  /** The registry (or its token server) refused our credentials or has none for us. */
  | "AUTH"
  /** Content does not hash to the digest it was asked or announced by. */
  | "DIGEST_MISMATCH"
  /** A manifest, index or config is not what the API promises. */
  | "INVALID_MANIFEST"
  /** A tag-only reference where a digest is required. */
  | "NOT_PINNED"
  /** A multi-platform index where a single-platform manifest is required. */
  | "IS_INDEX"
  /** A manifest of another platform than expected. */
  | "PLATFORM_MISMATCH";

/** A registry failure; `code` is always `REGISTRY_ERROR`, `reason` says which kind. */
export class RegistryError extends ConnectorBuildError {
  /** Which kind of failure. */
  readonly reason: RegistryErrorReason;
  /** Registry host as named in the reference (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string | undefined;
  /** Request URL, when a request was made. */
  readonly url: string | undefined;
  /** HTTP status, when the registry answered. */
  readonly status: number | undefined;
  /** The registry's error codes (`MANIFEST_UNKNOWN`, …), when it sent an error body. */
  readonly registryCodes: readonly string[];

  constructor(
    reason: RegistryErrorReason,
    message: string,
    details: { registry?: string; url?: string; status?: number; registryCodes?: readonly string[]; cause?: unknown } = {},
  ) {
    super("REGISTRY_ERROR", message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "RegistryError";
    this.reason = reason;
    this.registry = details.registry;
    this.url = details.url;
    this.status = details.status;
    this.registryCodes = details.registryCodes ?? [];
  }
}

/** A content descriptor: what a manifest or index points to. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** In an index: the platform of the manifest. */
  readonly platform?: ImagePlatform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

/** The platform of an image, as an index entry or an image config states it. */
export interface ImagePlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A single-platform image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A multi-platform index (OCI image index or Docker manifest list). */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The parts of an image config blob the client reads; other fields are kept as sent. */
export interface ImageConfig {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly [field: string]: unknown;
}

interface FetchedManifestBase {
  /** Registry host as named in the reference. */
  readonly registry: string;
  /** Repository in the registry. */
  readonly repository: string;
  /** Digest of the exact bytes, as the registry reported it and as verified. */
  readonly digest: string;
  /** Media type (Content-Type, else the document's `mediaType`). */
  readonly mediaType: string;
  /** Size in bytes. */
  readonly size: number;
  /** The exact bytes; the digest is over these. Do not mutate: they are cached. */
  readonly bytes: Uint8Array;
}

/** A manifest or index as fetched: `kind` tells which. */
export type FetchedManifest =
  | (FetchedManifestBase & { readonly kind: "manifest"; readonly manifest: ImageManifest })
  | (FetchedManifestBase & { readonly kind: "index"; readonly manifest: ImageIndex });

/** One per-platform manifest to list in an index made by {@link RegistryClient.putIndex}. */
export interface IndexEntry {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** `linux/amd64`-style platform, or the OCI platform object. */
  readonly platform: Platform | ImagePlatform;
}

/** Options of {@link RegistryClient.putIndex}. */
export interface PutIndexOptions {
  /**
   * `oci` (OCI image index), `docker` (Docker manifest list), or `auto` (default): a Docker manifest
   * list when every entry is a Docker schema 2 manifest, an OCI index otherwise.
   */
  readonly format?: "oci" | "docker" | "auto";
  /** Index annotations (OCI only). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Check each entry's platform against its image config before pushing. Default: true. */
  readonly verifyPlatforms?: boolean;
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Timeout of one request (manifests, tags, tokens), in milliseconds. Default: 30 000. */
  readonly timeoutMs?: number;
  /** Timeout of one blob transfer, body included, in milliseconds. Default: 600 000. */
  readonly blobTimeoutMs?: number;
  /** Explicit credentials, consulted before the environment and the Docker config. */
  readonly credentials?: CredentialsOption;
  /** Environment to read credentials from. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Docker config to read `auths` from, `false` to ignore it. Default: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly dockerConfigPath?: string | false;
  /** Page size asked of `tags/list` (`n`); the registry may send fewer. Default: registry's choice. */
  readonly tagsPageSize?: number;
  /** `User-Agent` header. */
  readonly userAgent?: string;
}

interface ParsedReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

interface RequestSpec {
  /** What we were doing, for errors: "resolve the digest of 127.0.0.1:5000/python:3.11". */
  readonly operation: string;
  /** What we expected, for errors. */
  readonly expected: string;
  readonly registry: string;
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "PATCH";
  readonly url: string;
  readonly scopes: readonly string[];
  readonly accept?: string;
  readonly contentType?: string;
  readonly body?: Uint8Array;
  /** Statuses returned to the caller instead of raising. */
  readonly ok: readonly number[];
  readonly blob?: boolean;
}

const digestSchema = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, "expected <algorithm>:<hex>");
const platformSchema = z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() });
const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  platform: platformSchema.optional(),
});
const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});
const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});
const imageConfigSchema = z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() });
const tagListSchema = z.looseObject({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() });
const tokenResponseSchema = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
});

/** API base URL of a registry host: `http://` for loopback, `https://` otherwise; `docker.io` → `https://registry-1.docker.io`. */
export function registryApiBase(registry: string): string {
  const host = canonicalRegistryHost(registry) === "docker.io" ? "registry-1.docker.io" : registry.toLowerCase();
  return `${isLoopbackHost(host) ? "http" : "https"}://${host}`;
}

/** `linux/arm64` → `{ os: "linux", architecture: "arm64" }`; objects are returned as they are. */
export function toImagePlatform(platform: Platform | ImagePlatform): ImagePlatform {
  if (typeof platform !== "string") return platform;
  const [os, architecture, variant] = platform.split("/");
  return { os: os as string, architecture: architecture as string, ...(variant !== undefined ? { variant } : {}) };
}

/** `{ os: "linux", architecture: "arm64", variant: "v8" }` → `linux/arm64/v8`. */
export function formatImagePlatform(platform: ImagePlatform): string {
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join("/");
}

/** The variant a platform has when it names none (`arm64` → `v8`, `amd64` → `v1`). */
function defaultVariant(architecture: string): string | undefined {
  if (architecture === "arm64") return "v8";
  if (architecture === "amd64") return "v1";
  return undefined;
}

/** True when an image of platform `actual` is what `wanted` asks for (a default variant equals no variant). */
export function platformMatches(actual: ImagePlatform, wanted: Platform | ImagePlatform): boolean {
  const w = toImagePlatform(wanted);
  if (actual.os !== w.os || actual.architecture !== w.architecture) return false;
  const normal = (v: string | undefined) => v ?? defaultVariant(actual.architecture);
  return normal(actual.variant) === normal(w.variant);
}

/** Digest of `bytes` with the algorithm of `like` (sha256 by default): `sha256:<hex>`. */
export function computeDigest(bytes: Uint8Array, like = "sha256:"): string {
  const algorithm = like.slice(0, like.indexOf(":"));
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new RegistryError("DIGEST_MISMATCH", `cannot verify digest ${like}: unsupported algorithm '${algorithm}': expected sha256 or sha512`);
  }
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const e = current as { message?: unknown; code?: unknown; cause?: unknown };
    let message = typeof e.message === "string" ? e.message : String(current);
    if (message === "bad port") message = "the port is on the Fetch standard's list of blocked ports (bad port)";
    if (message !== "" && message !== "fetch failed" && !parts.includes(message)) parts.push(message);
    if (typeof e.code === "string" && !parts.some((p) => p.includes(e.code as string))) parts.push(`(${e.code})`);
    current = e.cause;
  }
  return parts.length > 0 ? parts.join(" ") : "fetch failed";
}

function stripParams(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  const value = contentType.split(";")[0]?.trim() ?? "";
  return value === "" ? undefined : value;
}

function scopeFor(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}

/**
 * A client of the OCI distribution API. One instance is one run: it caches resolved tag digests
 * (until it changes them itself), manifests and configs by digest (immutable), and bearer tokens per
 * registry and scope (until they expire).
 */
export class RegistryClient {
  private readonly timeoutMs: number;
  private readonly blobTimeoutMs: number;
  private readonly options: RegistryClientOptions;
  /** `registry/repository:tag` → digest. */
  private readonly tagDigests = new Map<string, string>();
  /** `registry/repository@digest` → manifest. */
  private readonly manifests = new Map<string, FetchedManifest>();
  /** `registry/repository@digest` → config. */
  private readonly configs = new Map<string, ImageConfig>();
  /** `registry scopes` → bearer token. */
  private readonly tokens = new Map<string, CachedToken>();
  /** registry → its bearer challenge (realm, service), once seen. */
  private readonly bearerChallenges = new Map<string, AuthChallenge>();
  /** Registries that asked for Basic auth. */
  private readonly basicRegistries = new Set<string>();
  /** registry → credentials (null: none), resolved once. */
  private readonly credentialCache = new Map<string, ResolvedCredentials | null>();

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.blobTimeoutMs = options.blobTimeoutMs ?? 600_000;
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /** All tags of a repository (`127.0.0.1:5000/python`), following `Link` pagination, in the registry's order. */
  async listTags(repository: string): Promise<string[]> {
    const repo = this.parseRepository(repository, "list tags");
    const base = registryApiBase(repo.registry);
    const first = new URL(`${base}/v2/${repo.repository}/tags/list`);
    if (this.options.tagsPageSize !== undefined) first.searchParams.set("n", String(this.options.tagsPageSize));
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = first.toString();
    for (let page = 1; url !== undefined; page++) {
      if (seen.has(url) || page > 10_000) {
        throw new RegistryError("HTTP_STATUS", `Registry ${repo.registry}: listing the tags of ${repository} loops on page ${url}: expected Link headers to end`, {
          registry: repo.registry,
          url,
        });
      }
      seen.add(url);
      const res = await this.send({
        operation: `list the tags of ${repository} (page ${page})`,
        expected: `the repository '${repo.repository}' to exist in ${repo.registry}`,
        registry: repo.registry,
        method: "GET",
        url,
        scopes: [scopeFor(repo.repository, "pull")],
        accept: "application/json",
        ok: [200],
      });
      const body = await this.readJson(res, tagListSchema, `tags of ${repository}`, repo.registry, url);
      for (const tag of body.tags ?? []) tags.push(tag);
      url = nextLink(res.headers.get("link"), url);
    }
    return tags;
  }

  /**
   * The digest `reference` points to, as the registry reports it (`Docker-Content-Digest`). For a tag,
   * that is the digest of whatever the registry serves for our Accept list (an index for a
   * multi-platform tag). Asks with HEAD; falls back to GET (and then verifies the body's hash) when
   * HEAD carries no digest or fails. A digest reference is checked to exist and returned.
   */
  async resolveDigest(reference: string): Promise<string> {
    const ref = this.parseReference(reference, "resolve a digest");
    const cached = this.cachedDigest(ref);
    if (cached !== undefined) return cached;
    const target = ref.digest ?? (ref.tag as string);
    const url = `${registryApiBase(ref.registry)}/v2/${ref.repository}/manifests/${target}`;
    const res = await this.send({
      operation: `resolve the digest of ${reference}`,
      expected: "a manifest or index for this reference",
      registry: ref.registry,
      method: "HEAD",
      url,
      scopes: [scopeFor(ref.repository, "pull")],
      accept: ACCEPT_MANIFESTS,
      ok: [200, 400, 403, 404, 405, 500, 501, 502, 503],
    });
    const header = res.headers.get("docker-content-digest");
    if (res.status === 200 && header !== null && isWellFormedDigest(header)) {
      if (ref.digest !== undefined && header !== ref.digest) {
        throw new RegistryError(
          "DIGEST_MISMATCH",
          `Registry ${ref.registry}: resolving ${reference}: HEAD ${url} reported Docker-Content-Digest ${header}: expected the digest asked for, ${ref.digest}`,
          { registry: ref.registry, url, status: res.status },
        );
      }
      if (ref.tag !== undefined && ref.digest === undefined) this.tagDigests.set(tagKey(ref), header);
      return header;
    }
    // No usable HEAD answer: GET the manifest, which verifies the body and raises a detailed error.
    return (await this.getManifest(reference)).digest;
  }

  /**
   * The manifest or index `reference` names, parsed, with its media type and verified digest. By
   * digest: served from the per-run cache when already fetched. A reference with both tag and digest
   * is fetched by digest (the tag is informative).
   */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const ref = this.parseReference(reference, "get a manifest");
    const cachedDigest = this.cachedDigest(ref);
    if (cachedDigest !== undefined) {
      const cached = this.manifests.get(manifestKey(ref.registry, ref.repository, cachedDigest));
      if (cached !== undefined) return cached;
    }
    const target = ref.digest ?? (ref.tag as string);
    const url = `${registryApiBase(ref.registry)}/v2/${ref.repository}/manifests/${target}`;
    const res = await this.send({
      operation: `get the manifest of ${reference}`,
      expected: "a manifest or index for this reference",
      registry: ref.registry,
      method: "GET",
      url,
      scopes: [scopeFor(ref.repository, "pull")],
      accept: ACCEPT_MANIFESTS,
      ok: [200],
    });
    const bytes = await this.readBytes(res, { operation: `get the manifest of ${reference}`, registry: ref.registry, url });
    const announced = res.headers.get("docker-content-digest");
    const expectedDigest = ref.digest ?? (announced !== null && isWellFormedDigest(announced) ? announced : undefined);
    const computed = computeDigest(bytes, expectedDigest ?? "sha256:");
    if (ref.digest !== undefined && computed !== ref.digest) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Registry ${ref.registry}: GET ${url} returned a manifest hashing to ${computed}: expected ${ref.digest}, the digest asked for`,
        { registry: ref.registry, url, status: res.status },
      );
    }
    if (announced !== null && isWellFormedDigest(announced) && computeDigest(bytes, announced) !== announced) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Registry ${ref.registry}: GET ${url} announced Docker-Content-Digest ${announced} but the body hashes to ${computeDigest(bytes, announced)}: expected them equal`,
        { registry: ref.registry, url, status: res.status },
      );
    }
    const fetched = parseManifest(bytes, stripParams(res.headers.get("content-type")), {
      registry: ref.registry,
      repository: ref.repository,
      digest: computed,
      url,
    });
    this.manifests.set(manifestKey(ref.registry, ref.repository, computed), fetched);
    if (ref.digest === undefined && ref.tag !== undefined) this.tagDigests.set(tagKey(ref), computed);
    return fetched;
  }

  /** True when `tag` exists in `repository`; false on 404. Other failures raise. */
  async tagExists(repository: string, tag: string): Promise<boolean> {
    const repo = this.parseRepository(repository, "check a tag");
    const ref: ParsedReference = { ...repo, tag };
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      throw new RegistryError("INVALID_REFERENCE", `check tag '${tag}' of ${repository}: malformed tag: expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
    }
    if (this.tagDigests.has(tagKey(ref))) return true;
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${tag}`;
    const res = await this.send({
      operation: `check whether tag ${tag} exists in ${repository}`,
      expected: "200 (exists) or 404 (does not)",
      registry: repo.registry,
      method: "HEAD",
      url,
      scopes: [scopeFor(repo.repository, "pull")],
      accept: ACCEPT_MANIFESTS,
      ok: [200, 404],
    });
    if (res.status === 404) return false;
    const header = res.headers.get("docker-content-digest");
    if (header !== null && isWellFormedDigest(header)) this.tagDigests.set(tagKey(ref), header);
    return true;
  }

  /** The bytes of a blob, verified against `digest`. Holds the blob in memory: meant for configs and small layers. */
  async getBlob(repository: string, digest: string): Promise<Uint8Array> {
    const repo = this.parseRepository(repository, "get a blob");
    assertWellFormedDigest(digest, `get blob of ${repository}`);
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/${digest}`;
    const operation = `get blob ${digest} of ${repository}`;
    const res = await this.send({
      operation,
      expected: `the blob to exist in repository '${repo.repository}'`,
      registry: repo.registry,
      method: "GET",
      url,
      scopes: [scopeFor(repo.repository, "pull")],
      ok: [200],
      blob: true,
    });
    const bytes = await this.readBytes(res, { operation, registry: repo.registry, url, blob: true });
    const computed = computeDigest(bytes, digest);
    if (computed !== digest) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Registry ${repo.registry}: GET ${url} returned a blob hashing to ${computed}: expected ${digest}`,
        { registry: repo.registry, url, status: res.status },
      );
    }
    return bytes;
  }

  /** The image config blob `digest` (a manifest's `config.digest`) of `repository`, parsed; cached per run. */
  async getConfig(repository: string, digest: string): Promise<ImageConfig> {
    const repo = this.parseRepository(repository, "get a config");
    const key = manifestKey(repo.registry, repo.repository, digest);
    const cached = this.configs.get(key);
    if (cached !== undefined) return cached;
    const bytes = await this.getBlob(repository, digest);
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch (error) {
      throw new RegistryError("INVALID_MANIFEST", `Registry ${repo.registry}: config blob ${digest} of ${repository} is not JSON: ${(error as Error).message}: expected an image config`, {
        registry: repo.registry,
        cause: error,
      });
    }
    const parsed = imageConfigSchema.safeParse(json);
    if (!parsed.success) {
      throw new RegistryError(
        "INVALID_MANIFEST",
        `Registry ${repo.registry}: config blob ${digest} of ${repository} is not an image config (${z.prettifyError(parsed.error).replace(/\n/g, " ")}): expected JSON with "os" and "architecture"`,
        { registry: repo.registry },
      );
    }
    const config = parsed.data as ImageConfig;
    this.configs.set(key, config);
    return config;
  }

  /** True when blob `digest` exists in `repository`. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const repo = this.parseRepository(repository, "check a blob");
    assertWellFormedDigest(digest, `check blob of ${repository}`);
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/${digest}`;
    const res = await this.send({
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
    const repo = this.parseRepository(repository, "mount a blob");
    const from = this.parseRepository(fromRepository, "mount a blob");
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
    const res = await this.send({
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
      await this.send({
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
    const repo = this.parseRepository(repository, "upload a blob");
    const digest = computeDigest(data);
    if (await this.blobExists(repository, digest)) return digest;
    const start = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/uploads/`;
    const scopes = [scopeFor(repo.repository, "pull,push")];
    const opened = await this.send({
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
    const res = await this.send({
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
    const repo = this.parseRepository(repository, "push a manifest");
    const bytes =
      body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
    const byDigest = tagOrDigest.includes(":");
    if (byDigest) assertWellFormedDigest(tagOrDigest, `push manifest to ${repository}`);
    else if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tagOrDigest)) {
      throw new RegistryError("INVALID_REFERENCE", `push manifest to ${repository}: malformed tag '${tagOrDigest}': expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} or a digest`);
    }
    const digest = computeDigest(bytes, byDigest ? tagOrDigest : "sha256:");
    if (byDigest && digest !== tagOrDigest) {
      throw new RegistryError("DIGEST_MISMATCH", `push manifest to ${repository}@${tagOrDigest}: the body hashes to ${digest}: expected the digest it is pushed under`);
    }
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${tagOrDigest}`;
    const res = await this.send({
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
    if (!byDigest) this.tagDigests.set(tagKey({ ...repo, tag: tagOrDigest }), digest);
    return digest;
  }

  /**
   * Assembles an index from per-platform manifests already in `repository` and pushes it under `tag`;
   * returns its digest. Each entry is checked first: it must exist in the repository with the stated
   * size and media type, be a single-platform manifest and (unless `verifyPlatforms: false`) have an
   * image config of the stated platform. Platforms must be distinct.
   */
  async putIndex(repository: string, tag: string, manifests: readonly IndexEntry[], options: PutIndexOptions = {}): Promise<string> {
    const repo = this.parseRepository(repository, "push an index");
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
      const fetched = await this.getManifest(`${repo.registry}/${repo.repository}@${entry.digest}`);
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
        const actual = await this.configPlatform(fetched);
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
    return this.putManifest(repository, tag, JSON.stringify(index), mediaType);
  }

  /**
   * Copies the manifest (or index and all its manifests) `source` into `targetRepository`, blobs
   * included: mounted when on the same registry, else downloaded and uploaded (in memory). Pushed
   * under `tag` when given, else by digest. Returns the digest, which is the source's.
   */
  async copyManifest(source: string, targetRepository: string, tag?: string): Promise<string> {
    const src = this.parseReference(source, "copy a manifest");
    const dst = this.parseRepository(targetRepository, "copy a manifest");
    const fetched = await this.getManifest(source);
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
        await this.uploadBlob(targetRepository, await this.getBlob(srcRepo, blob.digest));
      }
    }
    return this.putManifest(targetRepository, tag ?? fetched.digest, fetched.bytes, fetched.mediaType);
  }

  /**
   * The platform of a single-platform manifest, read from its image config blob. An index is refused
   * with the platforms it holds.
   */
  async manifestPlatform(reference: string): Promise<ImagePlatform> {
    const fetched = await this.getManifest(reference);
    if (fetched.kind === "index") throw indexRefusal(reference, fetched, undefined);
    return this.configPlatform(fetched);
  }

  /**
   * Checks that `reference` is pinned by digest and is the single-platform manifest of `platform`.
   * Refuses a tag-only reference, an index (naming the platforms it holds and, when present, the
   * digest to pin for `platform`), and a manifest of another platform. Returns the digest and the
   * platform read from the image config.
   */
  async assertPlatform(reference: string, platform: Platform): Promise<{ digest: string; platform: ImagePlatform }> {
    const ref = this.parseReference(reference, `check the platform (${platform})`);
    if (ref.digest === undefined) {
      throw new RegistryError(
        "NOT_PINNED",
        `${reference} is a tag-only reference: a tag can point to another image tomorrow: expected <registry>/<repository>:<tag>@sha256:<digest of the ${platform} manifest>`,
        { registry: ref.registry },
      );
    }
    const fetched = await this.getManifest(reference);
    if (fetched.kind === "index") throw indexRefusal(reference, fetched, platform);
    const actual = await this.configPlatform(fetched);
    if (!platformMatches(actual, platform)) {
      throw new RegistryError(
        "PLATFORM_MISMATCH",
        `${reference} is the manifest of a ${formatImagePlatform(actual)} image (per its config ${fetched.manifest.config.digest}), not ${platform}: expected the digest of the ${platform} manifest`,
        { registry: ref.registry },
      );
    }
    return { digest: fetched.digest, platform: actual };
  }

  /**
   * Deletes manifest `digest` from `repository` (every tag pointing to it goes too). Registries refuse
   * deletion by tag, hence the digest. The registry must allow deletes.
   */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const repo = this.parseRepository(repository, "delete a manifest");
    assertWellFormedDigest(digest, `delete manifest of ${repository}`);
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${digest}`;
    const res = await this.send({
      operation: `delete manifest ${digest} of ${repository}`,
      expected: "202 Accepted (the manifest exists and the registry allows deletes)",
      registry: repo.registry,
      method: "DELETE",
      url,
      scopes: [scopeFor(repo.repository, "delete")],
      ok: [200, 202, 204],
    });
    await res.body?.cancel();
    this.manifests.delete(manifestKey(repo.registry, repo.repository, digest));
    const prefix = `${repo.registry}/${repo.repository}:`;
    for (const [key, value] of this.tagDigests) if (key.startsWith(prefix) && value === digest) this.tagDigests.delete(key);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private async configPlatform(fetched: FetchedManifest & { kind: "manifest" }): Promise<ImagePlatform> {
    const config = await this.getConfig(`${fetched.registry}/${fetched.repository}`, fetched.manifest.config.digest);
    return {
      os: config.os,
      architecture: config.architecture,
      ...(typeof config.variant === "string" && config.variant !== "" ? { variant: config.variant } : {}),
    };
  }

  private cachedDigest(ref: ParsedReference): string | undefined {
    if (ref.digest !== undefined) return this.manifests.has(manifestKey(ref.registry, ref.repository, ref.digest)) ? ref.digest : undefined;
    return this.tagDigests.get(tagKey(ref));
  }

  private parseReference(reference: string, operation: string): ParsedReference {
    const ref = splitOrThrow(reference, operation);
    if (ref.digest !== undefined) assertWellFormedDigest(ref.digest, `${operation}: ${reference}`);
    if (ref.digest === undefined && (ref.tag === undefined || ref.tag === "")) {
      throw new RegistryError("INVALID_REFERENCE", `${operation}: '${reference}' names neither a tag nor a digest: expected <registry>/<repository>:<tag> or …@sha256:<digest>`);
    }
    return ref;
  }

  private parseRepository(repository: string, operation: string): ParsedReference {
    const ref = splitOrThrow(repository, operation);
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw new RegistryError("INVALID_REFERENCE", `${operation}: '${repository}' is a reference, not a repository: expected <registry>/<repository> without tag or digest`);
    }
    return ref;
  }

  private credentialsFor(registry: string): ResolvedCredentials | undefined {
    const host = canonicalRegistryHost(registry);
    if (!this.credentialCache.has(host)) {
      const found = resolveRegistryCredentials(host, {
        ...(this.options.credentials !== undefined ? { credentials: this.options.credentials } : {}),
        ...(this.options.env !== undefined ? { env: this.options.env } : {}),
        ...(this.options.dockerConfigPath !== undefined ? { dockerConfigPath: this.options.dockerConfigPath } : {}),
      });
      this.credentialCache.set(host, found ?? null);
    }
    return this.credentialCache.get(host) ?? undefined;
  }

  private tokenKey(registry: string, scopes: readonly string[]): string {
    return `${registry} ${mergeScopes(scopes).join(" ")}`;
  }

  private cachedToken(registry: string, scopes: readonly string[]): string | undefined {
    const key = this.tokenKey(registry, scopes);
    const cached = this.tokens.get(key);
    if (cached === undefined) return undefined;
    if (cached.expiresAt <= Date.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return cached.token;
  }

  /** The Authorization header to send before any challenge: a cached token, a fresh token for a known realm, or Basic for a Basic registry. */
  private async preemptiveAuthorization(spec: RequestSpec): Promise<string | undefined> {
    if (!sameOrigin(spec.url, registryApiBase(spec.registry))) return undefined;
    const cached = this.cachedToken(spec.registry, spec.scopes);
    if (cached !== undefined) return `Bearer ${cached}`;
    const challenge = this.bearerChallenges.get(spec.registry);
    if (challenge !== undefined) return `Bearer ${await this.fetchToken(spec, challenge)}`;
    if (this.basicRegistries.has(spec.registry)) {
      const creds = this.credentialsFor(spec.registry);
      if (creds !== undefined) return basicHeader(creds);
    }
    return undefined;
  }

  private async fetchToken(spec: RequestSpec, challenge: AuthChallenge): Promise<string> {
    const scopes = mergeScopes([...spec.scopes, ...(challenge.params.scope !== undefined ? [challenge.params.scope] : [])]);
    const key = this.tokenKey(spec.registry, spec.scopes);
    const realm = challenge.params.realm;
    if (realm === undefined || realm === "") {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: ${spec.operation}: the Bearer challenge names no realm: expected realm="<token server URL>"`, {
        registry: spec.registry,
        url: spec.url,
        status: 401,
      });
    }
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch (error) {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: ${spec.operation}: the Bearer realm '${realm}' is not a URL: expected the token server URL`, {
        registry: spec.registry,
        cause: error,
      });
    }
    if (challenge.params.service !== undefined) tokenUrl.searchParams.set("service", challenge.params.service);
    for (const scope of scopes) tokenUrl.searchParams.append("scope", scope);
    const creds = this.credentialsFor(spec.registry);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.options.userAgent !== undefined) headers["user-agent"] = this.options.userAgent;
    const sendCreds = creds !== undefined && (tokenUrl.protocol === "https:" || isLoopbackHost(tokenUrl.host));
    if (sendCreds) {
      headers.authorization = basicHeader(creds);
      tokenUrl.searchParams.set("account", creds.username);
    }
    const who = sendCreds ? `as '${creds.username}' (credentials from ${creds.source})` : "anonymously";
    const operation = `get a token for ${scopes.join(" ")} from ${tokenUrl.origin}${tokenUrl.pathname} ${who}, to ${spec.operation}`;
    let res: Response;
    try {
      res = await fetch(tokenUrl, { method: "GET", headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.networkError({ ...spec, blob: false, operation, url: tokenUrl.toString() }, error, "a token server answering at the realm the registry named");
    }
    if (res.status !== 200) {
      const detail = await errorDetail(res);
      throw new RegistryError(
        "AUTH",
        `Registry ${spec.registry}: could not ${operation}: GET ${tokenUrl} returned ${res.status} ${res.statusText}${detail.text}: expected a token` +
          (res.status === 401 || res.status === 403 ? `; ${credentialHint(spec.registry, creds)}` : ""),
        { registry: spec.registry, url: tokenUrl.toString(), status: res.status, registryCodes: detail.codes },
      );
    }
    const body = await this.readJson(res, tokenResponseSchema, "token response", spec.registry, tokenUrl.toString());
    const token = body.token ?? body.access_token;
    if (token === undefined || token === "") {
      throw new RegistryError("AUTH", `Registry ${spec.registry}: the token server ${tokenUrl.origin}${tokenUrl.pathname} answered without "token" or "access_token": expected a bearer token`, {
        registry: spec.registry,
        url: tokenUrl.toString(),
      });
    }
    const lifetime = Math.max(0, (body.expires_in ?? 60) - 5) * 1000;
    const entry = { token, expiresAt: Date.now() + lifetime };
    this.tokens.set(key, entry);
    this.tokens.set(this.tokenKey(spec.registry, scopes), entry);
    return token;
  }

  /** One HTTP exchange with auth: pre-emptive credentials, one retry after a 401 challenge, errors explained. */
  private async send(spec: RequestSpec): Promise<Response> {
    let authorization = await this.preemptiveAuthorization(spec);
    let res = await this.fetchOnce(spec, authorization);
    if (res.status === 401) {
      const challenge = parseAuthChallenge(res.headers.get("www-authenticate"));
      let detail = await errorDetail(res);
      let retried = false;
      if (challenge?.scheme === "bearer") {
        // Remember the realm for later requests; the scope is per request.
        const { scope: _scope, error: _error, ...params } = challenge.params;
        this.bearerChallenges.set(spec.registry, { scheme: "bearer", params });
        this.tokens.delete(this.tokenKey(spec.registry, spec.scopes));
        authorization = `Bearer ${await this.fetchToken(spec, challenge)}`;
        res = await this.fetchOnce(spec, authorization);
        retried = true;
      } else if (challenge?.scheme === "basic" && !(authorization ?? "").startsWith("Basic ")) {
        const creds = this.credentialsFor(spec.registry);
        if (creds === undefined) {
          throw new RegistryError(
            "AUTH",
            `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} asks for Basic authentication${detail.text} and no credentials were found: ${credentialHint(spec.registry, undefined)}`,
            { registry: spec.registry, url: spec.url, status: 401, registryCodes: detail.codes },
          );
        }
        const target = new URL(spec.url);
        if (target.protocol !== "https:" && !isLoopbackHost(target.host)) {
          throw new RegistryError("AUTH", `Registry ${spec.registry}: refusing to send credentials over plain http to ${spec.url}: expected https`, {
            registry: spec.registry,
            url: spec.url,
            status: 401,
          });
        }
        this.basicRegistries.add(spec.registry);
        authorization = basicHeader(creds);
        res = await this.fetchOnce(spec, authorization);
        retried = true;
      }
      if (res.status === 401) {
        if (retried) detail = await errorDetail(res);
        const creds = this.credentialsFor(spec.registry);
        const how = challenge === undefined ? " without a WWW-Authenticate challenge" : retried ? ` even with ${challenge.scheme === "bearer" ? "a bearer token" : "credentials"}` : "";
        throw new RegistryError(
          "AUTH",
          `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} returned 401 ${res.statusText}${detail.text}${how}: ` +
            `expected access to ${mergeScopes(spec.scopes).join(" ")}; ${credentialHint(spec.registry, creds)}`,
          { registry: spec.registry, url: spec.url, status: 401, registryCodes: detail.codes },
        );
      }
    }
    if (!spec.ok.includes(res.status)) {
      const detail = await errorDetail(res);
      throw new RegistryError(
        res.status === 403 ? "AUTH" : "HTTP_STATUS",
        `Registry ${spec.registry}: cannot ${spec.operation}: ${spec.method} ${spec.url} returned ${res.status} ${res.statusText}${detail.text}: expected ${spec.expected}`,
        { registry: spec.registry, url: spec.url, status: res.status, registryCodes: detail.codes },
      );
    }
    return res;
  }

  private async fetchOnce(spec: RequestSpec, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (spec.accept !== undefined) headers.accept = spec.accept;
    if (spec.contentType !== undefined) headers["content-type"] = spec.contentType;
    if (authorization !== undefined) headers.authorization = authorization;
    if (this.options.userAgent !== undefined) headers["user-agent"] = this.options.userAgent;
    try {
      return await fetch(spec.url, {
        method: spec.method,
        headers,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        redirect: "follow",
        signal: AbortSignal.timeout(spec.blob ? this.blobTimeoutMs : this.timeoutMs),
      });
    } catch (error) {
      throw this.networkError(spec, error, `a registry serving the OCI distribution API at ${registryApiBase(spec.registry)}/v2/`);
    }
  }

  private networkError(spec: Pick<RequestSpec, "registry" | "operation" | "method" | "url" | "blob">, error: unknown, expected: string): RegistryError {
    const timedOut = (error as { name?: unknown }).name === "TimeoutError";
    const limit = spec.blob ? this.blobTimeoutMs : this.timeoutMs;
    if (timedOut) {
      return new RegistryError(
        "TIMEOUT",
        `Registry ${spec.registry} did not answer in ${limit} ms: cannot ${spec.operation} (${spec.method} ${spec.url}): expected ${expected}`,
        { registry: spec.registry, url: spec.url, cause: error },
      );
    }
    return new RegistryError(
      "UNREACHABLE",
      `Registry ${spec.registry} is unreachable: cannot ${spec.operation} (${spec.method} ${spec.url}): ${describeCause(error)}: expected ${expected}; is it running, and is the address right?`,
      { registry: spec.registry, url: spec.url, cause: error },
    );
  }

  private async readBytes(res: Response, where: { operation: string; registry: string; url: string; blob?: boolean }): Promise<Uint8Array> {
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      throw this.networkError({ ...where, method: "GET" }, error, "the complete response body");
    }
  }

  private async readJson<T>(res: Response, schema: z.ZodType<T>, what: string, registry: string, url: string): Promise<T> {
    const bytes = await this.readBytes(res, { operation: `read the ${what}`, registry, url });
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch (error) {
      throw new RegistryError("INVALID_MANIFEST", `Registry ${registry}: GET ${url} returned ${what} that is not JSON: ${(error as Error).message}`, {
        registry,
        url,
        cause: error,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RegistryError("INVALID_MANIFEST", `Registry ${registry}: GET ${url} returned malformed ${what}: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}`, {
        registry,
        url,
      });
    }
    return parsed.data;
  }
}

function splitOrThrow(reference: string, operation: string): ParsedReference {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw new RegistryError("INVALID_REFERENCE", `${operation}: empty reference: expected <registry>/<repository>[:<tag>][@sha256:<digest>]`);
  }
  const parts = splitImageReference(reference);
  if (parts.repository === "" || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(parts.repository)) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `${operation}: '${reference}' has a malformed repository '${parts.repository}': expected lowercase path components such as library/python`,
    );
  }
  return parts;
}

function isWellFormedDigest(value: string): boolean {
  return isDigest(value) || /^sha512:[0-9a-f]{128}$/.test(value);
}

function assertWellFormedDigest(digest: string, where: string): void {
  if (!isWellFormedDigest(digest)) {
    throw new RegistryError("INVALID_REFERENCE", `${where}: malformed digest '${digest}': expected sha256: followed by 64 lowercase hex digits`);
  }
}

function tagKey(ref: ParsedReference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag ?? ""}`;
}

function manifestKey(registry: string, repository: string, digest: string): string {
  return `${registry}/${repository}@${digest}`;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function basicHeader(creds: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, "utf8").toString("base64")}`;
}

function credentialHint(registry: string, creds: ResolvedCredentials | undefined): string {
  return creds === undefined
    ? `no credentials for ${registry}: set REGISTRY_USERNAME/REGISTRY_PASSWORD (optionally REGISTRY_HOST=${registry}) or add an "auths" entry for ${registry} to the Docker config`
    : `the credentials of '${creds.username}' for ${registry} come from ${creds.source}; check them and their permissions`;
}

/** `<url>; rel="next"` → absolute next URL. */
function nextLink(header: string | null, current: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m !== null && /\brel\s*=\s*"?next"?/i.test(m[2] as string)) return new URL(m[1] as string, current).toString();
  }
  return undefined;
}

/** The registry's error body, for messages: ` (MANIFEST_UNKNOWN: manifest unknown)`. */
async function errorDetail(res: Response): Promise<{ text: string; codes: string[] }> {
  let raw = "";
  try {
    raw = await res.text();
  } catch {
    return { text: "", codes: [] };
  }
  raw = raw.trim();
  if (raw === "") return { text: "", codes: [] };
  try {
    const json = JSON.parse(raw) as { errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }>; error?: unknown; details?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      const codes: string[] = [];
      const texts = json.errors.map((e) => {
        const code = typeof e.code === "string" ? e.code : "ERROR";
        codes.push(code);
        const detail =
          e.detail === undefined || e.detail === null ? "" : ` [${(typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail)).slice(0, 300)}]`;
        return `${code}: ${typeof e.message === "string" ? e.message : ""}${detail}`;
      });
      return { text: ` (${texts.join("; ")})`, codes };
    }
    const parts = [json.error, json.details].filter((v): v is string => typeof v === "string" && v !== "");
    if (parts.length > 0) return { text: ` (${parts.join(": ")})`, codes: [] };
  } catch {
    // not JSON: quote the start of it
  }
  return { text: ` (${raw.replace(/\s+/g, " ").slice(0, 300)})`, codes: [] };
}

function indexRefusal(reference: string, fetched: FetchedManifest & { kind: "index" }, platform: Platform | undefined): RegistryError {
  const held = fetched.manifest.manifests.map(
    (m) => `${m.platform !== undefined ? formatImagePlatform(m.platform) : "unknown platform"} (${m.digest})`,
  );
  const match = platform === undefined ? undefined : fetched.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform));
  const hint =
    match !== undefined
      ? `; pin ${fetched.registry}/${fetched.repository}@${match.digest} for ${platform}`
      : platform !== undefined
        ? `; it holds no ${platform} manifest`
        : "";
  return new RegistryError(
    "IS_INDEX",
    `${reference} is a multi-platform index (${fetched.mediaType}) holding ${held.length > 0 ? held.join(", ") : "no manifests"}: expected the digest of a single-platform manifest${platform !== undefined ? ` for ${platform}` : ""}${hint}`,
    { registry: fetched.registry },
  );
}

function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: { registry: string; repository: string; digest: string; url: string },
): FetchedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new RegistryError("INVALID_MANIFEST", `Registry ${where.registry}: GET ${where.url} returned a manifest that is not JSON: ${(error as Error).message}`, {
      registry: where.registry,
      url: where.url,
      cause: error,
    });
  }
  const declared = (json as { mediaType?: unknown } | null)?.mediaType;
  let mediaType =
    contentType !== undefined && contentType !== "application/json" && contentType !== "application/octet-stream"
      ? contentType
      : typeof declared === "string"
        ? declared
        : undefined;
  if (mediaType === undefined) {
    const shape = json as { manifests?: unknown; config?: unknown } | null;
    mediaType = Array.isArray(shape?.manifests) ? MEDIA_TYPES.ociIndex : shape?.config !== undefined ? MEDIA_TYPES.ociManifest : "";
  }
  const base = { registry: where.registry, repository: where.repository, digest: where.digest, mediaType, size: bytes.byteLength, bytes };
  if (INDEX_MEDIA_TYPES.includes(mediaType)) {
    const parsed = imageIndexSchema.safeParse(json);
    if (parsed.success) return { ...base, kind: "index", manifest: parsed.data as unknown as ImageIndex };
    throw malformed(where, mediaType, z.prettifyError(parsed.error));
  }
  if (MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    const parsed = imageManifestSchema.safeParse(json);
    if (parsed.success) return { ...base, kind: "manifest", manifest: parsed.data as unknown as ImageManifest };
    throw malformed(where, mediaType, z.prettifyError(parsed.error));
  }
  throw new RegistryError(
    "INVALID_MANIFEST",
    `Registry ${where.registry}: GET ${where.url} returned a manifest of media type '${mediaType}': expected one of ${ACCEPT_MANIFESTS} (Docker schema 1 is not supported)`,
    { registry: where.registry, url: where.url },
  );
}

function malformed(where: { registry: string; url: string }, mediaType: string, issues: string): RegistryError {
  return new RegistryError("INVALID_MANIFEST", `Registry ${where.registry}: GET ${where.url} returned a malformed ${mediaType}: ${issues.replace(/\n/g, " ")}`, {
    registry: where.registry,
    url: where.url,
  });
}
