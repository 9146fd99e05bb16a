// The read side of a registry session: digests, manifests and indexes, blobs, configs, platform
// checks. Every read goes through the session's transport and fills its caches.
import { TAG_PATTERN, formatZodIssues, type Platform } from "@airbyte-ci/base-images";
import { ACCEPT_MANIFESTS, type FetchedManifest, type ImageConfig, type ImagePlatform } from "./oci-types.ts";
import { assertWellFormedDigest, computeDigest, formatImagePlatform, indexRefusal, isWellFormedDigest, platformMatches } from "./platforms.ts";
import { parseReference, parseRepository, type ParsedReference } from "./references.ts";
import { RegistryError } from "./registry-error.ts";
import { imageConfigSchema, parseManifest } from "./schemas.ts";
import type { RegistrySession } from "./session.ts";
import { registryApiBase, scopeFor, stripParams } from "./transport.ts";

/** Options of a read. */
export interface ReadOptions {
  /** `false`: ask the registry even when the session already knows the answer. Default: true. */
  readonly cached?: boolean;
}

/** Reads from registries through one {@link RegistrySession}. */
export class RegistryReader {
  constructor(private readonly session: RegistrySession) {}

  /**
   * The digest `reference` points to, as the registry reports it (`Docker-Content-Digest`). For a tag,
   * that is the digest of whatever the registry serves for our Accept list (an index for a
   * multi-platform tag). Asks with HEAD; falls back to GET (and then verifies the body's hash) when
   * HEAD carries no digest or fails. A digest reference is checked to exist and returned.
   * `cached: false` asks the registry even when this session knows the answer (what a tag is after a push).
   */
  async resolveDigest(reference: string, options: ReadOptions = {}): Promise<string> {
    const ref = parseReference(reference, "resolve a digest");
    const cached = options.cached === false ? undefined : this.session.cachedDigest(ref);
    if (cached !== undefined) return cached;
    const target = ref.digest ?? (ref.tag as string);
    const url = `${registryApiBase(ref.registry)}/v2/${ref.repository}/manifests/${target}`;
    const res = await this.session.transport.send({
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
      if (ref.tag !== undefined && ref.digest === undefined) this.session.rememberTag(ref, header);
      return header;
    }
    // No usable HEAD answer: GET the manifest, which verifies the body and raises a detailed error.
    return (await this.getManifest(reference, options)).digest;
  }

  /**
   * The manifest or index `reference` names, parsed, with its media type and verified digest. By
   * digest: served from the per-run cache when already fetched. A reference with both tag and digest
   * is fetched by digest (the tag is informative). `cached: false`: fetched even when cached.
   */
  async getManifest(reference: string, options: ReadOptions = {}): Promise<FetchedManifest> {
    const ref = parseReference(reference, "get a manifest");
    const cachedDigest = options.cached === false ? undefined : this.session.cachedDigest(ref);
    if (cachedDigest !== undefined) {
      const cached = this.session.cachedManifest(ref.registry, ref.repository, cachedDigest);
      if (cached !== undefined) return cached;
    }
    const target = ref.digest ?? (ref.tag as string);
    const url = `${registryApiBase(ref.registry)}/v2/${ref.repository}/manifests/${target}`;
    const res = await this.session.transport.send({
      operation: `get the manifest of ${reference}`,
      expected: "a manifest or index for this reference",
      registry: ref.registry,
      method: "GET",
      url,
      scopes: [scopeFor(ref.repository, "pull")],
      accept: ACCEPT_MANIFESTS,
      ok: [200],
    });
    const bytes = await this.session.transport.readBytes(res, { operation: `get the manifest of ${reference}`, registry: ref.registry, url });
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
    this.session.rememberManifest(fetched);
    if (ref.digest === undefined && ref.tag !== undefined) this.session.rememberTag(ref, computed);
    return fetched;
  }

  /** True when `tag` exists in `repository`; false on 404. Other failures raise. */
  async tagExists(repository: string, tag: string): Promise<boolean> {
    const repo = parseRepository(repository, "check a tag");
    const ref: ParsedReference = { ...repo, tag };
    if (!TAG_PATTERN.test(tag)) {
      throw new RegistryError("INVALID_REFERENCE", `check tag '${tag}' of ${repository}: malformed tag: expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
    }
    if (this.session.knowsTag(ref)) return true;
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${tag}`;
    const res = await this.session.transport.send({
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
    if (header !== null && isWellFormedDigest(header)) this.session.rememberTag(ref, header);
    return true;
  }

  /** The bytes of a blob, verified against `digest`. Holds the blob in memory: meant for configs and small layers. */
  async getBlob(repository: string, digest: string): Promise<Uint8Array> {
    const repo = parseRepository(repository, "get a blob");
    assertWellFormedDigest(digest, `get blob of ${repository}`);
    const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/blobs/${digest}`;
    const operation = `get blob ${digest} of ${repository}`;
    const res = await this.session.transport.send({
      operation,
      expected: `the blob to exist in repository '${repo.repository}'`,
      registry: repo.registry,
      method: "GET",
      url,
      scopes: [scopeFor(repo.repository, "pull")],
      ok: [200],
      blob: true,
    });
    const bytes = await this.session.transport.readBytes(res, { operation, registry: repo.registry, url, blob: true });
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
    const repo = parseRepository(repository, "get a config");
    const cached = this.session.cachedConfig(repo.registry, repo.repository, digest);
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
        `Registry ${repo.registry}: config blob ${digest} of ${repository} is not an image config (${formatZodIssues(parsed.error, "config").join("; ")}): expected JSON with "os", "architecture" and "rootfs.diff_ids"`,
        { registry: repo.registry },
      );
    }
    const config = parsed.data as ImageConfig;
    this.session.rememberConfig(repo.registry, repo.repository, digest, config);
    return config;
  }


  /**
   * Checks that `reference` is pinned by digest and is the single-platform manifest of `platform`.
   * Refuses a tag-only reference, an index (naming the platforms it holds and, when present, the
   * digest to pin for `platform`), and a manifest of another platform. Returns the digest and the
   * platform read from the image config.
   */
  async assertPlatform(reference: string, platform: Platform): Promise<{ digest: string; platform: ImagePlatform }> {
    const ref = parseReference(reference, `check the platform (${platform})`);
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
   * The platform an image manifest's config states.
   */
  async configPlatform(fetched: FetchedManifest & { kind: "manifest" }): Promise<ImagePlatform> {
    const config = await this.getConfig(`${fetched.registry}/${fetched.repository}`, fetched.manifest.config.digest);
    return {
      os: config.os,
      architecture: config.architecture,
      ...(typeof config.variant === "string" && config.variant !== "" ? { variant: config.variant } : {}),
    };
  }
}
