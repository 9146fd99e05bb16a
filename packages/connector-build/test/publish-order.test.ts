// A registry build publishes in order: the index by digest, its SBOMs (and signatures) beside it,
// the tag last. A failing SBOM push leaves the tag where it was and says where the image is; a rerun
// then publishes (real Docker, real registry on loopback).
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { localCatalog, stageExample, uniqueTag } from "./helpers.ts";

/**
 * A stand-in for a registry that refuses SBOM pushes: the real registry accepts every well-formed
 * push, so a failing SBOM push cannot be produced with it on purpose. Everything else is the real
 * registry.
 */
class FailingSbomPushes extends RegistryClient {
  override putManifest(repository: string, tagOrDigest: string, body: Uint8Array | string | object, mediaType: string): Promise<string> {
    if (tagOrDigest.endsWith(".sbom")) return Promise.reject(new Error(`injected failure: PUT ${repository}:${tagOrDigest}`));
    return super.putManifest(repository, tagOrDigest, body, mediaType);
  }
}

describe("registry output: the tag moves last", () => {
  it("a failed SBOM push moves no tag and names the untagged digest; the rerun publishes the tag with its SBOM", async () => {
    const tag = uniqueTag();
    const dir = await stageExample("source-hello", { tag });
    const prefix = `127.0.0.1:5000/publish-order-${Date.now().toString(36)}`;
    const engine = new DockerEngine();
    const common = { engine, catalog: localCatalog(), platforms: ["linux/amd64" as const], output: { kind: "registry" as const, prefix } };
    const [failed] = await buildConnectors([dir], { ...common, registry: new FailingSbomPushes() });
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.message).toMatch(/injected failure: PUT .*\.sbom; nothing was tagged: the image is in the registry by digest only \(127\.0\.0\.1:5000\/publish-order-[a-z0-9]+\/airbyte\/source-hello@sha256:[0-9a-f]{64}\)/);
    const client = new RegistryClient();
    expect(await client.tagExists(`${prefix}/airbyte/source-hello`, tag)).toBe(false);

    const [ok] = await buildConnectors([dir], { ...common, registry: client });
    expect(ok?.error).toBeUndefined();
    expect(ok?.output?.reference).toBe(`${prefix}/airbyte/source-hello:${tag}@${ok?.output?.digest}`);
    expect(await client.resolveDigest(`${prefix}/airbyte/source-hello:${tag}`, { cached: false })).toBe(ok?.output?.digest);
    expect(ok?.sbom?.published?.length).toBeGreaterThan(0);
  }, 600_000);
});
