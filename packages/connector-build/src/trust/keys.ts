/**
 * Signing and verification keys: ECDSA P-256, the curve cosign generates, as PEM files.
 *
 * Private keys: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), password-encrypted PKCS#8
 * (`ENCRYPTED PRIVATE KEY`) and cosign's own format (`ENCRYPTED SIGSTORE PRIVATE KEY`, formerly
 * `ENCRYPTED COSIGN PRIVATE KEY`, see cosign-key.ts); the password of an encrypted key is passed in
 * (the CLI reads COSIGN_PASSWORD, as cosign does). Public keys: SPKI (`PUBLIC KEY`).
 *
 * The key stays in memory: it is never written anywhere, and no error message quotes it.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { ConnectorBuildError } from "../errors.ts";
import { decryptSigstoreKey, SIGSTORE_KEY_LABELS } from "./cosign-key.ts";

/** A loaded signing key and the public key that verifies it. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Options of {@link loadSigningKey}. */
export interface LoadSigningKeyOptions {
  /** Password of an encrypted key (cosign's COSIGN_PASSWORD). Default: none (an encrypted key is refused). */
  readonly password?: string | undefined;
  /** How the key was given, for error messages. Default `--key`. */
  readonly option?: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;
const EXPECTED_PRIVATE = "a PEM ECDSA P-256 private key (PKCS#8 'PRIVATE KEY', SEC1 'EC PRIVATE KEY', or cosign's 'ENCRYPTED SIGSTORE PRIVATE KEY' with COSIGN_PASSWORD)";

function invalidKey(message: string): ConnectorBuildError {
  return new ConnectorBuildError("INVALID_KEY", message);
}

/** The first PEM block of a key file: its label and base64 body. */
function readPem(path: string, option: string, expected: string): { label: string; body: string; text: string } {
  if (!existsSync(path) || !statSync(path).isFile()) throw invalidKey(`${option} ${path}: no such file: expected ${expected}`);
  const text = readFileSync(path, "utf8");
  const block = PEM_BLOCK.exec(text);
  if (block === null) throw invalidKey(`${option} ${path}: not a PEM file (no -----BEGIN …----- block): expected ${expected}`);
  return { label: block[1] as string, body: (block[2] as string).replace(/\s+/g, ""), text };
}

function assertP256(key: KeyObject, what: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || (curve !== "prime256v1" && curve !== "P-256")) {
    throw invalidKey(`${what} is a ${key.asymmetricKeyType ?? "unknown"}${curve ? ` (${curve})` : ""} key: expected ECDSA P-256 (what cosign generate-key-pair makes)`);
  }
}

/** Reads a private key for signing; every problem is INVALID_KEY (exit 2), raised before any work. */
export function loadSigningKey(path: string, options: LoadSigningKeyOptions = {}): SigningKey {
  const option = options.option ?? "--key";
  const { label, body, text } = readPem(path, option, EXPECTED_PRIVATE);
  const where = `${option} ${path}`;
  let privateKey: KeyObject;
  if (label === "PUBLIC KEY" || label === "EC PUBLIC KEY" || label === "CERTIFICATE") {
    throw invalidKey(`${where} holds a ${label === "CERTIFICATE" ? "certificate" : "public key"}: signing needs the private key: expected ${EXPECTED_PRIVATE} (the public key is for verify --key)`);
  } else if (SIGSTORE_KEY_LABELS.includes(label)) {
    const der = decryptSigstoreKey(Buffer.from(body, "base64"), options.password, where);
    try {
      privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } finally {
      der.fill(0);
    }
  } else if (label === "PRIVATE KEY" || label === "EC PRIVATE KEY" || label === "ENCRYPTED PRIVATE KEY") {
    if (label === "ENCRYPTED PRIVATE KEY" && (options.password === undefined || options.password === "")) {
      throw invalidKey(`${where} is encrypted and no password was given: set COSIGN_PASSWORD`);
    }
    try {
      privateKey = createPrivateKey({ key: text, format: "pem", ...(label === "ENCRYPTED PRIVATE KEY" ? { passphrase: options.password } : {}) });
    } catch (error) {
      const reason = label === "ENCRYPTED PRIVATE KEY" ? "cannot be decrypted (wrong COSIGN_PASSWORD?)" : "cannot be read";
      // The library's message names the key's parse failure, never its bytes.
      throw invalidKey(`${where}: the ${label} block ${reason}: ${(error as Error).message}: expected ${EXPECTED_PRIVATE}`);
    }
  } else {
    throw invalidKey(`${where} holds a PEM '${label}' block: expected ${EXPECTED_PRIVATE}`);
  }
  assertP256(privateKey, where);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Reads a public key for verification (`PUBLIC KEY`, SPKI); a private key is refused (exit 2). */
export function loadVerificationKey(path: string, option = "--key"): KeyObject {
  const expected = "a PEM ECDSA P-256 public key ('PUBLIC KEY', as cosign generate-key-pair writes cosign.pub)";
  const { label, text } = readPem(path, option, expected);
  const where = `${option} ${path}`;
  if (label !== "PUBLIC KEY") {
    const hint = label.includes("PRIVATE") ? ": this is a private key, which must not be handed to verifiers" : "";
    throw invalidKey(`${where} holds a PEM '${label}' block${hint}: expected ${expected}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: "pem" });
  } catch (error) {
    throw invalidKey(`${where}: the PUBLIC KEY block cannot be read: ${(error as Error).message}: expected ${expected}`);
  }
  assertP256(key, where);
  return key;
}
