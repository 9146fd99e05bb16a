/**
 * The one entry point publishing code calls after a push: sign the index and each platform
 * manifest, attest the SLSA provenance of the build (when its inputs are given), and attest the
 * CycloneDX SBOMs published beside the images (`sha256-<hex>.sbom`), all with one key, in cosign's
 * layout.
 */
import { MEDIA_TYPES, RegistryClient } from "../registry/registry-client.ts";
import { fetchSbom } from "../supply-chain/sbom-output.ts";
import { attestImageDigests, CYCLONEDX_PREDICATE_TYPE, statementAbout } from "./attest.ts";
import { qualifiedReference } from "./image-reference.ts";
import type { SigningKey } from "./keys.ts";
import { provenanceStatement, type ProvenanceInputs } from "./provenance.ts";
import { signImageDigests } from "./sign.ts";

const IMAGE_MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** Options of {@link signAndAttest}. */
export interface SignAndAttestOptions {
  /** Registry client. Default: one with REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config. */
  readonly registry?: RegistryClient;
  /** The published image, `registry/repository:tag` (a digest part is ignored). */
  readonly reference: string;
  /** Digest of the index (of the manifest, for a single-platform image). */
  readonly indexDigest: string;
  /** Digest of each platform's manifest (by platform, or as a list). Default: the image manifests the index lists. */
  readonly platformDigests?: Readonly<Record<string, string | undefined>> | readonly string[];
  /** The signing key (see loadSigningKey). */
  readonly key: SigningKey;
  /** What the build knows: with it, a signed SLSA provenance v1 attestation is published. Default: none. */
  readonly provenanceInputs?: ProvenanceInputs;
  /** Attest the SBOMs published beside the images, when there are. Default: true. */
  readonly sbom?: boolean;
}

/** What {@link signAndAttest} published. */
export interface SignAndAttestResult {
  /** Digests signed: the index first. */
  readonly digests: readonly string[];
  /** `repository:sha256-….sig@sha256:…` per digest. */
  readonly signatures: readonly string[];
  /** `repository:sha256-….att@sha256:…` of every attestation manifest written. */
  readonly attestations: readonly string[];
}

/** Signs and attests a published image; every failure raises (REGISTRY_ERROR for the registry's). */
export async function signAndAttest(options: SignAndAttestOptions): Promise<SignAndAttestResult> {
  const { repository } = qualifiedReference(options.reference, "sign");
  const client = options.registry ?? new RegistryClient();
  const given = Array.isArray(options.platformDigests) ? options.platformDigests : Object.values(options.platformDigests ?? {});
  // The index's own image manifests too: an engine may report the index digest only (Dagger does).
  const index = await client.getManifest(`${repository}@${options.indexDigest}`);
  const listed = index.kind === "index" ? index.manifest.manifests.filter((m) => IMAGE_MANIFEST_TYPES.has(m.mediaType)).map((m) => m.digest) : [];
  const digests = [...new Set([options.indexDigest, ...given.filter((d): d is string => typeof d === "string"), ...listed])];
  const signatures = await signImageDigests(client, repository, digests, options.key);
  const attestations: string[] = [];
  if (options.provenanceInputs !== undefined) {
    attestations.push(...(await attestImageDigests(client, repository, digests, provenanceStatement(repository, digests, options.provenanceInputs), options.key)));
  }
  if (options.sbom !== false) {
    for (const digest of digests) {
      const sbom = await fetchSbom(client, repository, digest);
      if (sbom === undefined) continue;
      const statement = statementAbout(repository, [digest], CYCLONEDX_PREDICATE_TYPE, JSON.parse(sbom) as unknown);
      attestations.push(...(await attestImageDigests(client, repository, [digest], statement as { predicateType: string }, options.key)));
    }
  }
  return { digests, signatures, attestations };
}
