/**
 * Verification of what sign and attest publish, against one public key: the signature of the digest
 * the reference resolves to now (a tag moved to an unsigned image fails), and on request the signed
 * SLSA provenance (with a base image policy) and CycloneDX SBOM attestations of that digest.
 */
import type { KeyObject } from "node:crypto";
import { dsse } from "@sigstore/core";
import { splitImageReference } from "@airbyte-ci/base-images";
import { RegistryClient } from "../registry/registry-client.ts";
import { COSIGN, cosignTag, readCosignLayers } from "./cosign-artifacts.ts";
import { CYCLONEDX_PREDICATE_TYPE } from "./attest.ts";
import { qualifiedReference } from "./image-reference.ts";
import { BASE_IMAGE_DEPENDENCY, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from "./provenance.ts";
import { verifyBytes } from "./sign.ts";

/** What `verify --require` can ask for besides the signature. */
export type RequiredAttestation = "provenance" | "sbom";

/** Options of {@link verifyImage}. */
export interface VerifyImageOptions {
  /** The public key signatures and attestations must verify with. */
  readonly key: KeyObject;
  /** Attestations that must be present and valid. Default: none. */
  readonly require?: readonly RequiredAttestation[];
  /** The provenance's base image must be of this repository (`registry/repository`); implies provenance. Default: no policy. */
  readonly base?: string;
  /** Registry client. Default: one with REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config. */
  readonly client?: RegistryClient;
}

/** One check and its outcome, as `verify` prints it. */
export interface VerifyCheck {
  readonly check: "signature" | RequiredAttestation | "base";
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of {@link verifyImage}. */
export interface VerifyResult {
  readonly reference: string;
  /** The digest the reference resolved to. */
  readonly digest: string;
  /** True when every check passed. */
  readonly valid: boolean;
  readonly checks: readonly VerifyCheck[];
}

interface Statement {
  _type?: unknown;
  subject?: Array<{ digest?: Record<string, unknown> }>;
  predicateType?: unknown;
  predicate?: unknown;
}

async function checkSignature(client: RegistryClient, repository: string, digest: string, key: KeyObject): Promise<VerifyCheck> {
  const layers = await readCosignLayers(client, repository, digest, "sig", COSIGN.simpleSigning);
  if (layers.length === 0) return { check: "signature", ok: false, detail: `no signature: ${repository}:${cosignTag(digest, "sig")} does not exist (the image is unsigned)` };
  let otherDigest = 0;
  for (const layer of layers) {
    const signature = layer.annotations[COSIGN.signatureAnnotation];
    if (signature === undefined || signature === "" || !verifyBytes(key, layer.bytes, signature)) continue;
    let payload: { critical?: { image?: { "docker-manifest-digest"?: unknown }; type?: unknown } };
    try {
      payload = JSON.parse(Buffer.from(layer.bytes).toString("utf8")) as typeof payload;
    } catch {
      continue;
    }
    if (payload.critical?.type !== "cosign container image signature") continue;
    if (payload.critical.image?.["docker-manifest-digest"] === digest) return { check: "signature", ok: true, detail: `signed: ${repository}:${cosignTag(digest, "sig")} holds a signature of ${digest} by this key` };
    otherDigest += 1;
  }
  return {
    check: "signature",
    ok: false,
    detail: `${layers.length} signature(s) in ${repository}:${cosignTag(digest, "sig")}, none of ${digest} by this key${otherDigest > 0 ? ` (${otherDigest} by this key name another digest)` : ""}`,
  };
}

/** The statements of `digest`'s attestations that verify with `key` and name `digest` as subject, by predicate type. */
async function verifiedStatements(client: RegistryClient, repository: string, digest: string, key: KeyObject): Promise<{ found: number; statements: Map<string, Statement[]> }> {
  const layers = await readCosignLayers(client, repository, digest, "att", COSIGN.dsseEnvelope);
  const statements = new Map<string, Statement[]>();
  const [algorithm, hex] = digest.split(":") as [string, string];
  for (const layer of layers) {
    let envelope: { payloadType?: unknown; payload?: unknown; signatures?: Array<{ sig?: unknown }> };
    try {
      envelope = JSON.parse(Buffer.from(layer.bytes).toString("utf8")) as typeof envelope;
    } catch {
      continue;
    }
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE || typeof envelope.payload !== "string" || !Array.isArray(envelope.signatures)) continue;
    const payload = Buffer.from(envelope.payload, "base64");
    const pae = dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload);
    if (!envelope.signatures.some((s) => typeof s.sig === "string" && verifyBytes(key, pae, s.sig))) continue;
    let statement: Statement;
    try {
      statement = JSON.parse(payload.toString("utf8")) as Statement;
    } catch {
      continue;
    }
    if (statement._type !== IN_TOTO_STATEMENT_V1 || typeof statement.predicateType !== "string") continue;
    if (!statement.subject?.some((s) => s.digest?.[algorithm] === hex)) continue;
    statements.set(statement.predicateType, [...(statements.get(statement.predicateType) ?? []), statement]);
  }
  return { found: layers.length, statements };
}

/** The base image repository (`registry/repository`) a provenance names, if any. */
function provenanceBase(statement: Statement): string | undefined {
  const deps = (statement.predicate as { buildDefinition?: { resolvedDependencies?: Array<{ name?: unknown; uri?: unknown }> } } | undefined)?.buildDefinition?.resolvedDependencies;
  const base = deps?.find((d) => d.name === BASE_IMAGE_DEPENDENCY);
  if (typeof base?.uri !== "string") return undefined;
  const parts = splitImageReference(base.uri.replace(/^oci:\/\//, ""));
  return `${parts.registry}/${parts.repository}`;
}

/**
 * Verifies `reference` (an index or a manifest, by tag or digest) with `options.key`. Bad input
 * (a reference without registry, a malformed --base) raises INVALID_REFERENCE before any request;
 * everything else is a check in the result.
 */
export async function verifyImage(reference: string, options: VerifyImageOptions): Promise<VerifyResult> {
  const ref = qualifiedReference(reference, "verify");
  const wantedBase = options.base !== undefined ? qualifiedReference(options.base, "--base", { repositoryOnly: true }).repository : undefined;
  const client = options.client ?? new RegistryClient();
  const digest = await client.resolveDigest(ref.reference);
  const checks: VerifyCheck[] = [await checkSignature(client, ref.repository, digest, options.key)];
  const required = new Set(options.require ?? []);
  if (wantedBase !== undefined) required.add("provenance");
  if (required.size > 0) {
    const { found, statements } = await verifiedStatements(client, ref.repository, digest, options.key);
    const none = (what: string) => `no valid ${what} attestation of ${digest} by this key (${found === 0 ? `${ref.repository}:${cosignTag(digest, "att")} does not exist` : `${found} attestation(s) found, none a valid one`})`;
    if (required.has("provenance")) {
      const provenance = statements.get(SLSA_PROVENANCE_V1) ?? [];
      checks.push(provenance.length > 0 ? { check: "provenance", ok: true, detail: `SLSA provenance v1 of ${digest}, signed by this key` } : { check: "provenance", ok: false, detail: none("SLSA provenance v1") });
      if (wantedBase !== undefined && provenance.length > 0) {
        const bases = provenance.map(provenanceBase);
        checks.push(
          bases.includes(wantedBase)
            ? { check: "base", ok: true, detail: `built on ${wantedBase}, as the provenance records` }
            : { check: "base", ok: false, detail: `the provenance's base image is ${bases.map((b) => b ?? "(none recorded)").join(", ")}: expected an image of ${wantedBase}` },
        );
      }
    }
    if (required.has("sbom")) {
      const sbom = statements.get(CYCLONEDX_PREDICATE_TYPE) ?? [];
      checks.push(sbom.length > 0 ? { check: "sbom", ok: true, detail: `CycloneDX SBOM attestation of ${digest}, signed by this key` } : { check: "sbom", ok: false, detail: none("CycloneDX SBOM") });
    }
  }
  return { reference: ref.reference, digest, valid: checks.every((c) => c.ok), checks };
}
