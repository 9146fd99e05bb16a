import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { maskInOutput } from "./output-boundary.ts";
import { namesRegistry, qualifiedReference } from "../trust/image-reference.ts";
import { loadSigningKey, loadVerificationKey, type SigningKey } from "../trust/keys.ts";
import { signAndAttest } from "../trust/sign-and-attest.ts";
import { verifyImage, type RequiredAttestation } from "../trust/verify.ts";

/** `build --output registry:<prefix> --sign-key`: the prefix must name its registry (checked before any build). */
export function assertSignableOutput(prefix: string): void {
  const host = prefix.split("/")[0] ?? "";
  if (!namesRegistry(host)) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `--output registry:${prefix} with --sign-key: '${host}' is not a registry host: expected registry:<registry>[/<namespace>] naming the registry, e.g. registry:127.0.0.1:5000`);
  }
}

/** Reads a signing key given on the command line; the password of an encrypted key comes from COSIGN_PASSWORD, as for cosign. */
export function signingKeyFromCli(path: string, option: string): SigningKey {
  const password = process.env.COSIGN_PASSWORD;
  if (password !== undefined) maskInOutput([password]);
  return loadSigningKey(path, { password, option });
}

/** `connector-build sign <image-ref>... --key <file>`: signs each index and its platform manifests, attests published SBOMs. */
export async function signCommand(references: string[], opts: { key: string; json?: boolean; sbom?: boolean }): Promise<void> {
  if (references.length === 0) throw new ConnectorBuildError("USAGE", "no image reference given: expected connector-build sign <registry>/<repository>:<tag>... --key <file>");
  // Every input is checked before anything is read or written.
  const refs = references.map((r) => qualifiedReference(r, "sign"));
  const key = signingKeyFromCli(opts.key, "--key");
  const client = new RegistryClient();
  const results = [];
  for (const ref of refs) {
    const digest = await client.resolveDigest(ref.reference);
    const result = await signAndAttest({ registry: client, reference: ref.reference, indexDigest: digest, key, sbom: opts.sbom !== false });
    results.push({ reference: ref.reference, ...result });
    if (!opts.json) {
      process.stdout.write(`✓ signed ${ref.reference}@${digest} (${result.digests.length} digest${result.digests.length > 1 ? "s" : ""}${result.attestations.length > 0 ? `, ${result.attestations.length} SBOM attestation(s)` : ""})\n`);
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

/** Parses `--require provenance,sbom`. */
function parseRequire(value: string | undefined): RequiredAttestation[] {
  if (value === undefined) return [];
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) {
    if (item !== "provenance" && item !== "sbom") throw new ConnectorBuildError("USAGE", `--require '${value}': unknown '${item}': expected a comma-separated list of provenance, sbom`);
  }
  return items as RequiredAttestation[];
}

/** `connector-build verify <image-ref> --key <public key>`: exit 0 valid, 1 invalid or missing (saying what), 2 bad input. */
export async function verifyCommand(reference: string, opts: { key: string; require?: string; base?: string; json?: boolean }): Promise<number> {
  const require = parseRequire(opts.require);
  qualifiedReference(reference, "verify");
  if (opts.base !== undefined) qualifiedReference(opts.base, "--base", { repositoryOnly: true });
  const key = loadVerificationKey(opts.key, "--key");
  const result = await verifyImage(reference, { key, require, ...(opts.base !== undefined ? { base: opts.base } : {}) });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    for (const check of result.checks) process.stdout.write(`${check.ok ? "✓" : "✗"} ${check.check}: ${check.detail}\n`);
    process.stdout.write(result.valid ? `verified ${result.reference}@${result.digest}\n` : `NOT verified: ${result.reference}@${result.digest}\n`);
  }
  return result.valid ? 0 : 1;
}
