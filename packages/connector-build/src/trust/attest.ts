/**
 * Attestations as cosign publishes them: an in-toto statement in a DSSE envelope
 * (https://github.com/secure-systems-lab/dsse), signed over its pre-authentication encoding (PAE,
 * from @sigstore/core) with the image key, one envelope per layer of the `.att` manifest, annotated
 * with its predicate type and an empty cosign signature annotation.
 */
import { dsse } from "@sigstore/core";
import type { RegistryClient } from "../registry/registry-client.ts";
import { appendCosignLayers, COSIGN } from "./cosign-artifacts.ts";
import type { SigningKey } from "./keys.ts";
import { digestSet, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1 } from "./provenance.ts";
import { signBytes } from "./sign.ts";

/** The predicate type of a CycloneDX SBOM attestation (what `cosign attest --type cyclonedx` uses). */
export const CYCLONEDX_PREDICATE_TYPE = "https://cyclonedx.org/bom";

/** A DSSE envelope. */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** base64 of the payload. */
  readonly payload: string;
  readonly signatures: ReadonlyArray<{ readonly keyid: string; readonly sig: string }>;
}

/** The statement wrapped in a DSSE envelope signed with `key`. */
export function signStatement(statement: object, key: SigningKey): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString("base64"), signatures: [{ keyid: "", sig: signBytes(key, dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload)) }] };
}

/** An in-toto statement of any predicate about `digests` of `repository`. */
export function statementAbout(repository: string, digests: readonly string[], predicateType: string, predicate: unknown): object {
  return { _type: IN_TOTO_STATEMENT_V1, subject: [...new Set(digests)].map((d) => ({ name: repository, digest: digestSet(d) })), predicateType, predicate };
}

/**
 * Publishes `statement` (signed by `key`) as an attestation of each of `digests` in `repository`;
 * an earlier attestation of the same predicate type is replaced. Returns the `.att` addresses.
 */
export async function attestImageDigests(
  client: RegistryClient,
  repository: string,
  digests: readonly string[],
  statement: { readonly predicateType: string },
  key: SigningKey,
): Promise<string[]> {
  const envelope = signStatement(statement, key);
  const layer = {
    mediaType: COSIGN.dsseEnvelope,
    bytes: new TextEncoder().encode(JSON.stringify(envelope)),
    annotations: { [COSIGN.signatureAnnotation]: "", [COSIGN.predicateTypeAnnotation]: statement.predicateType },
  };
  const addresses: string[] = [];
  for (const digest of digests) {
    addresses.push(
      await appendCosignLayers(client, repository, digest, "att", [layer], (existing) => existing.mediaType === COSIGN.dsseEnvelope && existing.annotations[COSIGN.predicateTypeAnnotation] === statement.predicateType),
    );
  }
  return addresses;
}
