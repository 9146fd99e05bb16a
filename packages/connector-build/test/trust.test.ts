/**
 * Signing, attesting and verifying against the real local registry (127.0.0.1:5000), through the CLI
 * (`connector-build sign` / `verify`) and the library's signAndAttest. The images are real two-platform
 * indexes of the fixture root images (python:3.11-bookworm, amd64 and arm64), copied into a test
 * repository; each test makes its own index (a unique annotation gives it its own digest), so runs
 * never see each other's signatures. cosign's own verdict on what is signed here is in
 * test/trust-cosign.test.ts.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitImageReference } from "@airbyte-ci/base-images";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { pushSbom } from "../src/supply-chain/sbom-output.ts";
import { cosignTag } from "../src/trust/cosign-artifacts.ts";
import { loadSigningKey } from "../src/trust/keys.ts";
import { signAndAttest } from "../src/trust/sign-and-attest.ts";
import { fixtureRoot, localCatalog, REPO_ROOT, runCli } from "./helpers.ts";

const REPO = "127.0.0.1:5000/connector-build-test/trust";
const client = new RegistryClient();
const dir = mkdtempSync(join(tmpdir(), "trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyPair(name: string): { key: string; pub: string; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  writeFileSync(key, pem, { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ format: "pem", type: "spki" }).toString());
  return { key, pub, pem };
}
const signer = keyPair("signer");
const other = keyPair("other");

/** The fixture root manifests, copied into the test repository once. */
const platforms: Array<{ digest: string; size: number; mediaType: string; platform: "linux/amd64" | "linux/arm64" }> = [];
beforeAll(async () => {
  for (const arch of ["amd64", "arm64"] as const) {
    const digest = await client.copyManifest(fixtureRoot(arch).address, REPO);
    const fetched = await client.getManifest(`${REPO}@${digest}`);
    platforms.push({ digest, size: fetched.size, mediaType: fetched.mediaType, platform: `linux/${arch}` });
  }
}, 300_000);

let counter = 0;
/** A fresh two-platform index under a fresh tag (or `tag`): its own digest, never signed before. */
async function freshIndex(tag?: string): Promise<{ ref: string; digest: string }> {
  counter += 1;
  const t = tag ?? `trust-${Date.now().toString(36)}-${counter}`;
  const digest = await client.putIndex(REPO, t, platforms, { format: "oci", annotations: { "org.opencontainers.image.description": `trust test ${Date.now()}-${Math.random()}-${counter}` } });
  return { ref: `${REPO}:${t}`, digest };
}

const base = localCatalog().get("1.0.0");
const baseParts = splitImageReference(base.publishedAddress ?? "");
const baseRepository = `${baseParts.registry}/${baseParts.repository}`;
const connectorDir = join(REPO_ROOT, "examples/source-tickets");

/** The provenance statement attested for `digest` (decoded from its DSSE envelope). */
interface TestStatement {
  predicateType: string;
  subject: Array<{ digest: { sha256: string } }>;
  predicate: {
    buildDefinition: { externalParameters: unknown; resolvedDependencies: Array<{ name: string; uri: string; digest: { sha256: string } }> };
    runDetails: { builder: { id: string }; metadata: { startedOn: string } };
  };
}
async function attestedStatements(digest: string): Promise<TestStatement[]> {
  const att = await client.getManifest(`${REPO}:${cosignTag(digest, "att")}`);
  if (att.kind !== "manifest") throw new Error("expected a manifest");
  const out: TestStatement[] = [];
  for (const layer of att.manifest.layers) {
    expect(layer.mediaType).toBe("application/vnd.dsse.envelope.v1+json");
    expect(layer.annotations?.["dev.cosignproject.cosign/signature"]).toBe("");
    const envelope = JSON.parse(Buffer.from(await client.getBlob(REPO, layer.digest)).toString("utf8"));
    expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
    expect(layer.annotations?.predicateType).toBe(statement.predicateType);
    out.push(statement);
  }
  return out;
}

describe("sign, attest and verify on the local registry", () => {
  it("signs the index and each platform manifest with provenance; verify passes with --require provenance --base", async () => {
    const image = await freshIndex();
    const started = new Date();
    const result = await signAndAttest({
      reference: image.ref,
      indexDigest: image.digest,
      platformDigests: { "linux/amd64": platforms[0]?.digest, "linux/arm64": platforms[1]?.digest },
      key: loadSigningKey(signer.key),
      provenanceInputs: { connector: "source-tickets", connectorDir, platforms: ["linux/amd64", "linux/arm64"], baseImage: { name: `${baseRepository}:1.0.0`, digest: baseParts.digest ?? "" }, startedOn: started },
    });
    expect(result.digests).toEqual([image.digest, platforms[0]?.digest, platforms[1]?.digest]);

    // The .sig manifest: a simple-signing payload naming the digest, the signature in the annotation.
    const sig = await client.getManifest(`${REPO}:${cosignTag(image.digest, "sig")}`);
    if (sig.kind !== "manifest") throw new Error("expected a manifest");
    const layer = sig.manifest.layers.at(-1);
    expect(layer?.mediaType).toBe("application/vnd.dev.cosign.simplesigning.v1+json");
    expect(layer?.annotations?.["dev.cosignproject.cosign/signature"]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const payload = JSON.parse(Buffer.from(await client.getBlob(REPO, layer?.digest ?? "")).toString("utf8"));
    expect(payload.critical.image["docker-manifest-digest"]).toBe(image.digest);

    // The provenance: subject = index and manifests; base by digest; input files by sha256.
    const [statement] = await attestedStatements(image.digest);
    expect(statement?.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(statement?.subject.map((s) => `sha256:${s.digest.sha256}`)).toEqual(result.digests);
    const deps = statement?.predicate.buildDefinition.resolvedDependencies ?? [];
    expect(deps.find((d) => d.name === "base-image")).toEqual({ name: "base-image", uri: `oci://${baseRepository}:1.0.0`, digest: { sha256: (baseParts.digest ?? "").slice(7) } });
    const metadataHash = createHash("sha256").update(readFileSync(join(connectorDir, "metadata.yaml"))).digest("hex");
    expect(deps.find((d) => d.name === "metadata.yaml")?.digest.sha256).toBe(metadataHash);
    expect(deps.some((d) => d.name === "pyproject.toml")).toBe(true);
    expect(statement?.predicate.buildDefinition.externalParameters).toEqual({ connector: "source-tickets", platforms: ["linux/amd64", "linux/arm64"] });
    expect(statement?.predicate.runDetails.builder.id).toContain("connector-build");
    expect(statement?.predicate.runDetails.metadata.startedOn).toBe(started.toISOString());

    const ok = await runCli(["verify", image.ref, "--key", signer.pub, "--require", "provenance", "--base", baseRepository]);
    expect(ok.stderr).toBe("");
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain("✓ signature");
    expect(ok.stdout).toContain("✓ provenance");
    expect(ok.stdout).toContain(`✓ base: built on ${baseRepository}`);
    // Each platform manifest is signed and attested on its own.
    const platform = await runCli(["verify", `${REPO}@${platforms[1]?.digest}`, "--key", signer.pub, "--require", "provenance"]);
    expect(platform.exitCode).toBe(0);

    // Wrong --base: the policy fails, saying what the provenance records.
    const wrongBase = await runCli(["verify", image.ref, "--key", signer.pub, "--base", "127.0.0.1:5000/someone-else/base"]);
    expect(wrongBase.exitCode).toBe(1);
    expect(wrongBase.stdout).toContain(`✗ base: the provenance's base image is ${baseRepository}: expected an image of 127.0.0.1:5000/someone-else/base`);
    // Wrong key: nothing verifies.
    const wrongKey = await runCli(["verify", image.ref, "--key", other.pub]);
    expect(wrongKey.exitCode).toBe(1);
    expect(wrongKey.stdout).toMatch(/✗ signature: 1 signature\(s\) in .*, none of sha256:[0-9a-f]{64} by this key/);
  }, 300_000);

  it("sign (CLI) signs and attests a published SBOM; --require provenance fails without provenance, --require sbom passes", async () => {
    const image = await freshIndex();
    const index = await client.getManifest(image.ref);
    const sbom = JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] });
    await pushSbom(client, REPO, index, sbom);
    const signed = await runCli(["sign", image.ref, "--key", signer.key]);
    expect(signed.stderr).toBe("");
    expect(signed.exitCode).toBe(0);
    expect(signed.stdout).toContain(`✓ signed ${image.ref}@${image.digest} (3 digests, 1 SBOM attestation(s))`);
    expect(`${signed.stdout}${signed.stderr}`).not.toContain(signer.pem.split("\n")[1]);
    // Nothing the toolkit pushed holds the key.
    for (const kind of ["sig", "att"] as const) {
      const m = await client.getManifest(`${REPO}:${cosignTag(image.digest, kind)}`);
      if (m.kind !== "manifest") throw new Error("expected a manifest");
      const der = loadSigningKey(signer.key).privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
      for (const l of [...m.manifest.layers, m.manifest.config]) {
        const text = Buffer.from(await client.getBlob(REPO, l.digest)).toString("utf8");
        expect(text).not.toContain(der.slice(0, 40));
      }
    }
    const noProvenance = await runCli(["verify", image.ref, "--key", signer.pub, "--require", "provenance,sbom"]);
    expect(noProvenance.exitCode).toBe(1);
    expect(noProvenance.stdout).toContain("✓ signature");
    expect(noProvenance.stdout).toContain("✗ provenance: no valid SLSA provenance v1 attestation");
    expect(noProvenance.stdout).toContain("✓ sbom: CycloneDX SBOM attestation");
    const [statement] = await attestedStatements(image.digest);
    expect(statement?.predicateType).toBe("https://cyclonedx.org/bom");
    expect(statement?.predicate).toEqual(JSON.parse(sbom));
  }, 300_000);

  it("fails for an unsigned image and for a tag moved to an unsigned image", async () => {
    const unsigned = await freshIndex();
    const plain = await runCli(["verify", unsigned.ref, "--key", signer.pub]);
    expect(plain.exitCode).toBe(1);
    expect(plain.stdout).toContain(`✗ signature: no signature: ${REPO}:${cosignTag(unsigned.digest, "sig")} does not exist (the image is unsigned)`);
    expect(plain.stdout).toContain("NOT verified");

    const tag = `moved-${Date.now().toString(36)}`;
    const first = await freshIndex(tag);
    expect((await runCli(["sign", first.ref, "--key", signer.key])).exitCode).toBe(0);
    expect((await runCli(["verify", first.ref, "--key", signer.pub])).exitCode).toBe(0);
    const moved = await freshIndex(tag);
    expect(moved.ref).toBe(first.ref);
    expect(moved.digest).not.toBe(first.digest);
    const after = await runCli(["verify", moved.ref, "--key", signer.pub]);
    expect(after.exitCode).toBe(1);
    expect(after.stdout).toContain(`no signature: ${REPO}:${cosignTag(moved.digest, "sig")} does not exist`);
    // The old digest is still signed: verification follows the tag, not the history.
    expect((await runCli(["verify", `${REPO}@${first.digest}`, "--key", signer.pub])).exitCode).toBe(0);
  }, 300_000);

  it("refuses bad input with exit 2 before anything is written", async () => {
    const image = await freshIndex();
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [["sign", "connector-build-test/trust:latest", "--key", signer.key], /'connector-build-test\/trust:latest' names no registry/],
      [["sign", image.ref, "--key", signer.pub], /holds a public key: signing needs the private key/],
      [["sign", image.ref, "--key", join(dir, "absent.key")], /no such file/],
      [["sign", image.ref, "--key", join(dir, "cosign.key")], /cannot decrypt the key with COSIGN_PASSWORD: wrong password/, { COSIGN_PASSWORD: "given-pw-Xq7" }],
      [["verify", image.ref, "--key", signer.key], /this is a private key/],
      [["verify", "trust:latest", "--key", signer.pub], /names no registry/],
      [["verify", image.ref, "--key", signer.pub, "--base", `${baseRepository}:1.0.0`], /is a reference, not a repository/],
      [["verify", image.ref, "--key", signer.pub, "--require", "provenance,vex"], /unknown 'vex'/],
    ];
    // A cosign-format key whose password is not the one given (written with node:crypto as in keys.test.ts).
    const { scryptSync, randomBytes } = await import("node:crypto");
    const { secretbox } = await import("@noble/ciphers/salsa.js");
    const salt = randomBytes(32);
    const nonce = randomBytes(24);
    const sealed = secretbox(scryptSync("right", salt, 32, { N: 1024, r: 8, p: 1 }), nonce).seal(loadSigningKey(signer.key).privateKey.export({ format: "der", type: "pkcs8" }));
    const body = JSON.stringify({ kdf: { name: "scrypt", params: { N: 1024, r: 8, p: 1 }, salt: salt.toString("base64") }, cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") }, ciphertext: Buffer.from(sealed).toString("base64") });
    writeFileSync(join(dir, "cosign.key"), `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(body).toString("base64")}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`, { mode: 0o600 });
    for (const [args, message, env] of cases) {
      const run = await runCli(args, env ? { env } : {});
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.exitCode, args.join(" ")).toBe(2);
      expect(`${run.stdout}${run.stderr}`).not.toContain("given-pw-Xq7");
    }
    expect(await client.tagExists(REPO, cosignTag(image.digest, "sig"))).toBe(false);
    // build --sign-key checks the key before any build, and wants a registry output.
    const build = await runCli(["build", join(dir, "nowhere"), "--output", "registry:127.0.0.1:5000/connector-build-test", "--sign-key", signer.pub]);
    expect(build.stderr).toMatch(/--sign-key .* holds a public key/);
    expect(build.exitCode).toBe(2);
    const noRegistry = await runCli(["build", join(dir, "nowhere"), "--output", "registry:myorg", "--sign-key", signer.key]);
    expect(noRegistry.stderr).toContain("--output registry:myorg with --sign-key: 'myorg' is not a registry host");
    expect(noRegistry.exitCode).toBe(2);
    const docker = await runCli(["build", join(dir, "nowhere"), "--sign-key", signer.key]);
    expect(docker.stderr).toContain("--sign-key: expected --output registry:");
    expect(docker.exitCode).toBe(2);
  }, 300_000);
});
