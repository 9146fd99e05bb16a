// cosign itself verifies what the toolkit signs: a connector built and published to the local
// registry with a signing key (buildConnectors with signKey, the path of build --sign-key), then
// `cosign verify` and `cosign verify-attestation` (offline: --insecure-ignore-tlog; the registry is
// plain http on loopback: --allow-insecure-registry). And the other way round: a key made by
// `cosign generate-key-pair` (cosign's encrypted format) signs here, and cosign's own signature is
// accepted by `connector-build verify`.
//
// cosign comes from scripts/env/cosign.sh (a Go build once per machine), which scripts/test.sh runs
// and exports as AIRBYTE_CI_COSIGN_BIN, a name only this file reads. Outside CI, without it, the
// file is reported skipped; with CI=true a missing cosign FAILS it.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { splitImageReference } from "@airbyte-ci/base-images";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConnectors, type ConnectorBuildResult } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { loadSigningKey } from "../src/trust/keys.ts";
import { fixtureRoot, localCatalog, runCli, stageExample } from "./helpers.ts";
import { uniqueName } from "./helpers/supply-chain.ts";

const COSIGN = process.env.AIRBYTE_CI_COSIGN_BIN;
const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const PRESENT = COSIGN !== undefined && COSIGN !== "" && existsSync(COSIGN);
const NO_COSIGN = `no cosign: AIRBYTE_CI_COSIGN_BIN is ${COSIGN === undefined ? "unset" : `'${COSIGN}', which does not exist`}: scripts/test.sh builds it with scripts/env/cosign.sh (log: .local/logs/cosign.log)`;
// Skipped (and reported so) only outside CI; in CI the first test fails with NO_COSIGN.
const suite = PRESENT || IN_CI ? describe : describe.skip;

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "trust-cosign-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs cosign offline; returns its exit code and output (never throws on a non-zero exit). */
async function cosign(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(COSIGN as string, args, { cwd: dir, env: { ...process.env, ...env, COSIGN_EXPERIMENTAL: "0", TUF_ROOT: join(dir, "tuf") }, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
const OFFLINE = ["--insecure-ignore-tlog", "--allow-insecure-registry"];

suite("cosign verifies what the toolkit signs (real cosign, Docker, registry)", () => {
  const prefix = `127.0.0.1:5000/connector-build-test/${uniqueName("cosign")}`;
  const repo = `${prefix}/airbyte/source-hello`;
  let built: ConnectorBuildResult | undefined;
  const base = splitImageReference(localCatalog().get("1.0.0").publishedAddress ?? "");
  const baseRepository = `${base.registry}/${base.repository}`;

  beforeAll(async () => {
    if (!PRESENT) return;
    // A key pair made by cosign, in its own encrypted format.
    const generated = await cosign(["generate-key-pair"], { COSIGN_PASSWORD: "test-password" });
    if (generated.code !== 0) throw new Error(`cosign generate-key-pair failed: ${generated.stderr}`);
    const other = await cosign(["generate-key-pair", "--output-key-prefix", "other"], { COSIGN_PASSWORD: "" });
    if (other.code !== 0) throw new Error(`cosign generate-key-pair --output-key-prefix other failed: ${other.stderr}`);
    const source = await stageExample("source-hello", { tag: "0.1.0" });
    const key = loadSigningKey(join(dir, "cosign.key"), { password: "test-password" });
    [built] = await buildConnectors([source], { engine: new DockerEngine(), catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "registry", prefix }, signKey: key });
    if (built?.status !== "success") throw new Error(`build failed: ${built?.error?.message}`);
  }, 900_000);

  it("cosign verify accepts the signature of the index and of the platform manifest", async () => {
    if (!PRESENT) throw new Error(NO_COSIGN);
    const indexRef = `${repo}@${built?.output?.digest}`;
    const platformRef = `${repo}@${built?.platforms[0]?.digest}`;
    for (const ref of [built?.output?.reference as string, indexRef, platformRef]) {
      const verified = await cosign(["verify", "--key", "cosign.pub", ...OFFLINE, ref]);
      expect(verified.stderr, ref).toContain("The signatures were verified against the specified public key");
      expect(verified.code, ref).toBe(0);
      const payloads = JSON.parse(verified.stdout) as Array<{ critical: { image: { "docker-manifest-digest": string } } }>;
      expect(payloads.map((p) => p.critical.image["docker-manifest-digest"])).toContain(ref.includes("@") ? ref.slice(ref.indexOf("@") + 1) : built?.output?.digest);
    }
  }, 600_000);

  it("cosign verify-attestation accepts the SLSA provenance v1 and the CycloneDX SBOM attestations", async () => {
    if (!PRESENT) throw new Error(NO_COSIGN);
    const ref = built?.output?.reference as string;
    const provenance = await cosign(["verify-attestation", "--type", "slsaprovenance1", "--key", "cosign.pub", ...OFFLINE, ref]);
    expect(provenance.stderr).toContain("The signatures were verified against the specified public key");
    expect(provenance.code).toBe(0);
    const envelope = JSON.parse(provenance.stdout.trim().split("\n")[0] as string) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
    expect(statement.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(statement.subject.map((s: { digest: { sha256: string } }) => `sha256:${s.digest.sha256}`)).toEqual([built?.output?.digest, built?.platforms[0]?.digest]);
    expect(statement.predicate.buildDefinition.resolvedDependencies[0]).toMatchObject({ name: "base-image", digest: { sha256: base.digest?.slice(7) } });
    const sbom = await cosign(["verify-attestation", "--type", "cyclonedx", "--key", "cosign.pub", ...OFFLINE, ref]);
    expect(sbom.code).toBe(0);
    // The other key does not verify.
    const wrong = await cosign(["verify-attestation", "--type", "slsaprovenance1", "--key", "other.pub", ...OFFLINE, ref]);
    expect(wrong.code).not.toBe(0);
    // And ours agrees, with the base image policy.
    const ours = await runCli(["verify", ref, "--key", join(dir, "cosign.pub"), "--require", "provenance,sbom", "--base", baseRepository]);
    expect(ours.stdout).toContain("✓ base");
    expect(ours.exitCode).toBe(0);
  }, 600_000);

  it("connector-build verify accepts a signature cosign made, and refuses it with another key", async () => {
    if (!PRESENT) throw new Error(NO_COSIGN);
    const client = new RegistryClient();
    const target = `127.0.0.1:5000/connector-build-test/trust-cosign-sign`;
    const digest = await client.copyManifest(fixtureRoot("amd64").address, target, uniqueName("by-cosign"));
    const signed = await cosign(["sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-insecure-registry", "--yes", `${target}@${digest}`], { COSIGN_PASSWORD: "test-password" });
    expect(signed.code, signed.stderr).toBe(0);
    const ours = await runCli(["verify", `${target}@${digest}`, "--key", join(dir, "cosign.pub")]);
    expect(ours.stdout).toContain("✓ signature");
    expect(ours.exitCode).toBe(0);
    const other = await runCli(["verify", `${target}@${digest}`, "--key", join(dir, "other.pub")]);
    expect(other.exitCode).toBe(1);
  }, 600_000);
});
