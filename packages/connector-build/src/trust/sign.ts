/**
 * Image signatures in cosign's format: a simple-signing payload naming the image digest, signed with
 * ECDSA P-256 over its SHA-256 (ASN.1 DER, base64), pushed as a layer of the `.sig` manifest.
 * No library writes this payload (it is Red Hat's "atomic container signature" JSON, as cosign
 * emits it), hence by hand.
 */
import { sign, verify, type KeyObject } from "node:crypto";
import type { RegistryClient } from "../registry/registry-client.ts";
import { appendCosignLayers, COSIGN } from "./cosign-artifacts.ts";
import type { SigningKey } from "./keys.ts";

/** The payload cosign signs for `digest` of `repository`, byte for byte in cosign's field order. */
export function simpleSigningPayload(repository: string, digest: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      critical: { identity: { "docker-reference": repository }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" },
      optional: null,
    }),
  );
}

/** ECDSA-SHA256 signature of `data`, DER, base64 (what cosign puts in annotations and DSSE envelopes). */
export function signBytes(key: SigningKey, data: Uint8Array): string {
  return sign("sha256", data, key.privateKey).toString("base64");
}

/** True when `signature` (base64 DER) is `publicKey`'s ECDSA-SHA256 signature of `data`. */
export function verifyBytes(publicKey: KeyObject, data: Uint8Array, signature: string): boolean {
  try {
    return verify("sha256", data, publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/**
 * Signs each digest of `repository` (an index and its platform manifests, or one manifest) and
 * pushes the signatures; returns the address of each `.sig` manifest, in the order of `digests`.
 * Signatures already there (other keys, earlier runs) are kept, as cosign keeps them.
 */
export async function signImageDigests(client: RegistryClient, repository: string, digests: readonly string[], key: SigningKey): Promise<string[]> {
  const addresses: string[] = [];
  for (const digest of digests) {
    const payload = simpleSigningPayload(repository, digest);
    const layer = { mediaType: COSIGN.simpleSigning, bytes: payload, annotations: { [COSIGN.signatureAnnotation]: signBytes(key, payload) } };
    addresses.push(await appendCosignLayers(client, repository, digest, "sig", [layer]));
  }
  return addresses;
}
