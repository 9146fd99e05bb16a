// A registry session: what the reads and the writes of one run share. HTTP and authentication (the
// transport, with its bearer tokens), which tag points to which digest (learnt from reads, updated by
// pushes), and the manifests and configs already fetched (by digest, so immutable).
import type { FetchedManifest, ImageConfig } from "./oci-types.ts";
import { manifestKey, tagKey, type ParsedReference } from "./references.ts";
import { RegistryTransport, type RegistryClientOptions } from "./transport.ts";

/** Shared state of one run's registry traffic; {@link RegistryReader} and {@link RegistryWriter} both use one. */
export class RegistrySession {
  /** HTTP and authentication. */
  readonly transport: RegistryTransport;
  /** `registry/repository:tag` → digest. */
  private readonly tagDigests = new Map<string, string>();
  /** `registry/repository@digest` → manifest. */
  private readonly manifests = new Map<string, FetchedManifest>();
  /** `registry/repository@digest` → config. */
  private readonly configs = new Map<string, ImageConfig>();

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new RegistryTransport(options);
  }

  /** Records that `tag` of a repository points to `digest` (read from the registry, or after a push). */
  rememberTag(ref: ParsedReference, digest: string): void {
    this.tagDigests.set(tagKey(ref), digest);
  }

  /** True when the tag of `ref` is known to exist. */
  knowsTag(ref: ParsedReference): boolean {
    return this.tagDigests.has(tagKey(ref));
  }

  /** The digest `ref` is known to name: its digest when that manifest is cached, else its tag's remembered digest. */
  cachedDigest(ref: ParsedReference): string | undefined {
    if (ref.digest !== undefined) return this.manifests.has(manifestKey(ref.registry, ref.repository, ref.digest)) ? ref.digest : undefined;
    return this.tagDigests.get(tagKey(ref));
  }

  cachedManifest(registry: string, repository: string, digest: string): FetchedManifest | undefined {
    return this.manifests.get(manifestKey(registry, repository, digest));
  }

  rememberManifest(fetched: FetchedManifest): void {
    this.manifests.set(manifestKey(fetched.registry, fetched.repository, fetched.digest), fetched);
  }

  cachedConfig(registry: string, repository: string, digest: string): ImageConfig | undefined {
    return this.configs.get(manifestKey(registry, repository, digest));
  }

  rememberConfig(registry: string, repository: string, digest: string, config: ImageConfig): void {
    this.configs.set(manifestKey(registry, repository, digest), config);
  }
}
