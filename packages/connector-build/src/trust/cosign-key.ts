/**
 * cosign's encrypted private key format, read with node:crypto's scrypt and @noble/ciphers'
 * XSalsa20-Poly1305 (NaCl secretbox); no maintained npm package reads this format itself.
 *
 * `cosign generate-key-pair` writes a PEM block `ENCRYPTED SIGSTORE PRIVATE KEY` (before cosign 2.0:
 * `ENCRYPTED COSIGN PRIVATE KEY`) whose body is JSON:
 *   { "kdf": { "name": "scrypt", "params": { "N", "r", "p" }, "salt": <base64> },
 *     "cipher": { "name": "nacl/secretbox", "nonce": <base64, 24 bytes> },
 *     "ciphertext": <base64: Poly1305 tag, then the encrypted PKCS#8 DER of the key> }
 * The secretbox key is scrypt(password, salt, N, r, p) of 32 bytes.
 */
import { scryptSync } from "node:crypto";
import { secretbox } from "@noble/ciphers/salsa.js";
import { z } from "zod";
import { ConnectorBuildError } from "../errors.ts";

/** PEM labels of cosign's encrypted keys. */
export const SIGSTORE_KEY_LABELS: readonly string[] = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"];

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64");
const envelopeSchema = z.object({
  kdf: z.object({
    name: z.literal("scrypt"),
    params: z.object({ N: z.number().int().min(2), r: z.number().int().min(1), p: z.number().int().min(1) }),
    salt: base64,
  }),
  cipher: z.object({ name: z.literal("nacl/secretbox"), nonce: base64 }),
  ciphertext: base64,
});

/** scrypt work factors above this are refused: cosign uses N = 32768; a huge N would stall the process. */
const MAX_SCRYPT_COST = 1 << 20;

/** Decrypts the body of a cosign encrypted key; returns the PKCS#8 DER (the caller wipes it). Errors: INVALID_KEY. */
export function decryptSigstoreKey(body: Buffer, password: string | undefined, where: string): Buffer {
  if (password === undefined) {
    throw new ConnectorBuildError("INVALID_KEY", `${where} is a cosign encrypted key and COSIGN_PASSWORD is not set: expected its password in COSIGN_PASSWORD (empty for a key generated without one)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ConnectorBuildError("INVALID_KEY", `${where}: the encrypted key's body is not JSON: expected a key written by cosign generate-key-pair`);
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConnectorBuildError("INVALID_KEY", `${where}: unsupported encrypted key (${z.prettifyError(parsed.error).replace(/\n/g, " ")}): expected scrypt and nacl/secretbox, as cosign writes`);
  }
  const { kdf, cipher, ciphertext } = parsed.data;
  const { N, r, p } = kdf.params;
  if (N > MAX_SCRYPT_COST || (N & (N - 1)) !== 0 || r * p > 64) {
    throw new ConnectorBuildError("INVALID_KEY", `${where}: scrypt parameters N=${N} r=${r} p=${p} are out of range: expected N a power of two up to ${MAX_SCRYPT_COST}, r·p up to 64`);
  }
  const nonce = Buffer.from(cipher.nonce, "base64");
  if (nonce.length !== 24) throw new ConnectorBuildError("INVALID_KEY", `${where}: the secretbox nonce has ${nonce.length} bytes: expected 24`);
  const key = scryptSync(password, Buffer.from(kdf.salt, "base64"), 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  try {
    return Buffer.from(secretbox(key, nonce).open(Buffer.from(ciphertext, "base64")));
  } catch {
    throw new ConnectorBuildError("INVALID_KEY", `${where}: cannot decrypt the key with COSIGN_PASSWORD: wrong password (or a damaged key file)`);
  } finally {
    key.fill(0);
  }
}
