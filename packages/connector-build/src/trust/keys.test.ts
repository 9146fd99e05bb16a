/**
 * Key loading: every accepted form signs and verifies, every bad input is INVALID_KEY (exit 2) with a
 * message that names the file and never its content. Keys are made here with node:crypto; cosign's
 * encrypted format is written here too (scrypt + NaCl secretbox, as cosign generate-key-pair does),
 * because cosign itself may be absent: test/trust-cosign.test.ts reads a key cosign generated.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secretbox } from "@noble/ciphers/salsa.js";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectorBuildError, exitCodeFor } from "../errors.ts";
import { loadSigningKey, loadVerificationKey } from "./keys.ts";
import { signBytes, verifyBytes } from "./sign.ts";

const dir = mkdtempSync(join(tmpdir(), "trust-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` of `key`, with small scrypt work factors to keep the test quick. */
function cosignEncrypted(key: KeyObject, password: string, label = "ENCRYPTED SIGSTORE PRIVATE KEY"): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const params = { N: 1024, r: 8, p: 1 };
  const box = secretbox(scryptSync(password, salt, 32, params), nonce);
  const der = key.export({ format: "der", type: "pkcs8" });
  const body = JSON.stringify({
    kdf: { name: "scrypt", params, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(box.seal(der)).toString("base64"),
  });
  const lines = Buffer.from(body).toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function invalidKey(fn: () => unknown): ConnectorBuildError {
  try {
    fn();
  } catch (error) {
    expect(ConnectorBuildError.isInstance(error)).toBe(true);
    expect((error as ConnectorBuildError).code).toBe("INVALID_KEY");
    expect(exitCodeFor(error)).toBe(2);
    return error as ConnectorBuildError;
  }
  throw new Error("expected INVALID_KEY, got success");
}

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pkcs8 = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const spki = publicKey.export({ format: "pem", type: "spki" }).toString();

describe("loadSigningKey", () => {
  it.each([
    ["PKCS#8", () => pkcs8],
    ["SEC1", () => privateKey.export({ format: "pem", type: "sec1" }).toString()],
  ])("reads a %s ECDSA P-256 key whose signatures the public key verifies", (_form, content) => {
    const key = loadSigningKey(file(`k-${_form}.pem`, content()), {});
    const data = Buffer.from("payload");
    const signature = signBytes(key, data);
    expect(verifyBytes(loadVerificationKey(file("pub.pem", spki)), data, signature)).toBe(true);
    expect(verifyBytes(loadVerificationKey(file("pub.pem", spki)), Buffer.from("other"), signature)).toBe(false);
  });

  it("reads cosign's encrypted key with the right password (both PEM labels), refuses a wrong or missing one", () => {
    for (const label of ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"]) {
      const path = file("cosign.key", cosignEncrypted(privateKey, "s3cret-pw", label));
      const key = loadSigningKey(path, { password: "s3cret-pw" });
      expect(key.publicKey.export({ format: "pem", type: "spki" }).toString()).toBe(spki);
      const wrong = invalidKey(() => loadSigningKey(path, { password: "not-it", option: "--sign-key" }));
      expect(wrong.message).toContain(`--sign-key ${path}`);
      expect(wrong.message).toContain("wrong password");
      expect(wrong.message).not.toContain("not-it");
      expect(invalidKey(() => loadSigningKey(path, {})).message).toContain("COSIGN_PASSWORD is not set");
    }
  });

  it("reads a password-encrypted PKCS#8 key with its password, refuses a wrong one", () => {
    const encrypted = privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "pw-1" }).toString();
    const path = file("enc.pem", encrypted);
    expect(loadSigningKey(path, { password: "pw-1" }).publicKey.export({ format: "pem", type: "spki" }).toString()).toBe(spki);
    expect(invalidKey(() => loadSigningKey(path, { password: "pw-2" })).message).toContain("wrong COSIGN_PASSWORD");
    expect(invalidKey(() => loadSigningKey(path, {})).message).toContain("set COSIGN_PASSWORD");
  });

  it("refuses a public key, a certificate-less non-key, another curve, RSA, a missing file; never quotes the key", () => {
    expect(invalidKey(() => loadSigningKey(file("pub.pem", spki), { option: "--sign-key" })).message).toMatch(/--sign-key .*pub\.pem holds a public key: signing needs the private key/);
    expect(invalidKey(() => loadSigningKey(file("notes.txt", "hello, not a key\n"))).message).toContain("not a PEM file");
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(invalidKey(() => loadSigningKey(file("p384.pem", p384))).message).toContain("expected ECDSA P-256");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(invalidKey(() => loadSigningKey(file("rsa.pem", rsa))).message).toContain("is a rsa key");
    expect(invalidKey(() => loadSigningKey(join(dir, "absent.pem"))).message).toContain("no such file");
    const broken = pkcs8.replace(/\n[A-Za-z0-9+/]{10}/, "\nAAAAAAAAAA");
    const error = invalidKey(() => loadSigningKey(file("broken.pem", broken)));
    const body = pkcs8.split("\n")[1] as string;
    expect(error.message).not.toContain(body);
    expect(createPrivateKey(pkcs8).asymmetricKeyType).toBe("ec");
  });
});

describe("loadVerificationKey", () => {
  it("refuses a private key given as the public one", () => {
    expect(invalidKey(() => loadVerificationKey(file("priv.pem", pkcs8))).message).toContain("this is a private key");
  });
});
