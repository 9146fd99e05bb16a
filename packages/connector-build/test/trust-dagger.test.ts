// Signing with `--engine dagger`: a connector built on the real Dagger engine and published to the
// local registry with a signing key is signed, its provenance attested, and verifies
// (connector-build verify with the base image policy). Signing happens after the push, through the
// registry API, so it is the same code as on Docker; the Dagger publish reports the index digest
// only, so this file checks that signing finds and signs each platform manifest of the index.
//
// The engine comes from scripts/test.sh as AIRBYTE_CI_DAGGER_RUNNER_HOST / AIRBYTE_CI_DAGGER_CLI_BIN
// (see test/dagger-real.test.ts). Outside CI, without an engine, the file is reported skipped; with
// CI=true a missing engine FAILS it.
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitImageReference } from "@airbyte-ci/base-images";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { DaggerEngine } from "../src/engines/dagger/dagger-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { loadSigningKey, loadVerificationKey } from "../src/trust/keys.ts";
import { verifyImage } from "../src/trust/verify.ts";
import { localCatalog, pipIndexUrl, stageExample } from "./helpers.ts";
import { uniqueName } from "./helpers/supply-chain.ts";
import { ENGINE_PRESENT, IN_CI, NO_ENGINE } from "./helpers/dagger-engine.ts";

const suite = ENGINE_PRESENT || IN_CI ? describe : describe.skip;

const dir = mkdtempSync(join(tmpdir(), "trust-dagger-"));
let dagger: DaggerEngine | undefined;
afterAll(async () => {
  await dagger?.close();
  rmSync(dir, { recursive: true, force: true });
});

suite("signing with --engine dagger (real Dagger engine and registry)", () => {
  beforeAll(async () => {
    if (!ENGINE_PRESENT) throw new Error(NO_ENGINE);
    dagger = new DaggerEngine();
    await dagger.client();
  }, 120_000);

  it("a signed two-platform Dagger build verifies, index and each manifest: signature, provenance with the base image policy", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "k.pem"), privateKey.export({ format: "pem", type: "sec1" }).toString(), { mode: 0o600 });
    writeFileSync(join(dir, "k.pub"), publicKey.export({ format: "pem", type: "spki" }).toString());
    const prefix = `127.0.0.1:5000/connector-build-test/${uniqueName("trust-dagger")}`;
    const source = await stageExample("source-hello", { tag: "0.1.0" });
    const [built] = await buildConnectors([source], {
      engine: dagger as DaggerEngine,
      catalog: localCatalog(),
      platforms: ["linux/amd64", "linux/arm64"],
      output: { kind: "registry", prefix },
      pipIndex: { indexUrl: pipIndexUrl() },
      signKey: loadSigningKey(join(dir, "k.pem")),
      // The Dagger publish reports the index digest only, which the SBOM publishing of a build
      // cannot work with yet; signing finds the platform manifests in the index itself.
      sbom: false,
    });
    expect(built?.error).toBeUndefined();
    const base = splitImageReference(localCatalog().get("1.0.0").publishedAddress ?? "");
    const key = loadVerificationKey(join(dir, "k.pub"));
    const index = await new RegistryClient().getManifest(built?.output?.reference as string);
    // Dagger reported the index digest only: signing found the platform manifests in the index.
    const manifests = index.kind === "index" ? index.manifest.manifests.map((m) => m.digest) : [];
    expect(manifests).toHaveLength(2);
    for (const ref of [built?.output?.reference as string, ...manifests.map((d) => `${prefix}/airbyte/source-hello@${d}`)]) {
      const result = await verifyImage(ref, { key, require: ["provenance"], base: `${base.registry}/${base.repository}` });
      expect(result.checks.map((c) => `${c.check}:${c.ok}`), ref).toEqual(["signature:true", "provenance:true", "base:true"]);
      expect(result.valid).toBe(true);
    }
  }, 900_000);
});
