// The last step of rebase, on the real registry: everything beside a tag goes in first, a tag another
// writer moved refuses the publish, and a failure says exactly what was published. The images are
// the local fixture base's platform manifests, copied into a fresh repository.
import { splitImageReference } from "@airbyte-ci/base-images";
import { beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { publishTagMoves, type TagMove } from "../src/supply-chain/rebase-publish.ts";
import { localCatalog } from "./helpers.ts";
import { uniqueName } from "./helpers/supply-chain.ts";

const repo = `127.0.0.1:5000/supply-rebase-publish/${uniqueName("p")}`;
const client = new RegistryClient();
const moves: TagMove[] = [];
const contents = { debianPackages: [], pythonDistributions: [] };

/**
 * A stand-in for a registry that fails one write: the real registry accepts every well-formed push,
 * so a failing SBOM push or tag move cannot be produced with it on purpose.
 */
class FailingWrites extends RegistryClient {
  constructor(private readonly fails: (tagOrDigest: string) => boolean) {
    super();
  }
  override putManifest(repository: string, tagOrDigest: string, body: Uint8Array | string | object, mediaType: string): Promise<string> {
    if (this.fails(tagOrDigest)) return Promise.reject(new Error(`injected failure: PUT ${repository}:${tagOrDigest}`));
    return super.putManifest(repository, tagOrDigest, body, mediaType);
  }
}

function move(tag: string, k: number, tagWas?: string): TagMove {
  const m = moves[k] as TagMove;
  return { ...m, reference: `${repo}:${tag}`, tag, tagWas };
}

beforeAll(async () => {
  const address = localCatalog().get("1.0.0").publishedAddress as string;
  const index = await client.getManifest(address);
  if (index.kind !== "index") throw new Error(`${address} is not an index`);
  const parts = splitImageReference(address);
  for (const entry of index.manifest.manifests) {
    const digest = await client.copyManifest(`${parts.registry}/${parts.repository}@${entry.digest}`, repo);
    const fetched = await client.getManifest(`${repo}@${digest}`);
    const platform = `${entry.platform?.os}/${entry.platform?.architecture}` as "linux/amd64";
    moves.push({ reference: "", repo, tag: "", bytes: fetched.bytes, mediaType: fetched.mediaType, digest, isIndex: false, tagWas: undefined, platforms: [{ platform, digest, contents }] });
  }
}, 120_000);

describe("rebase publishing order (real registry)", () => {
  it("SBOMs go in before the tag; the tag moves last and is read back", async () => {
    const [done] = await publishTagMoves(client, [move("ok", 0)], { sbom: { name: "base:1.0.0", digest: moves[0]?.digest as string }, log: () => {} });
    expect(done?.digest).toBe(moves[0]?.digest);
    expect(done?.sboms).toHaveLength(1);
    expect(await new RegistryClient().resolveDigest(`${repo}:ok`)).toBe(moves[0]?.digest);
  });

  it("a failed SBOM push moves no tag and says what was pushed by digest", async () => {
    const failing = new FailingWrites((t) => t.endsWith(".sbom"));
    const error = await publishTagMoves(failing, [move("sbom-fails", 0)], { sbom: { name: "base:1.0.0", digest: "sha256:0" }, log: () => {} }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/publishing the rebased images and their SBOMs failed; no tag was moved; pushed by digest only: .*@sha256:[0-9a-f]{64}: injected failure/);
    expect(await new RegistryClient().tagExists(repo, "sbom-fails")).toBe(false);
  });

  it("a tag another writer moved after the rebase read it refuses the publish: no tag moves", async () => {
    // The rebase read "raced" as absent; another writer then published the second platform's manifest under it.
    await client.putManifest(repo, "raced", moves[1]?.bytes as Uint8Array, moves[1]?.mediaType as string);
    const error = await publishTagMoves(client, [move("untouched", 0), move("raced", 0)], { sbom: undefined, log: () => {} }).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(new RegExp(`:raced changed while rebasing \\(was no such tag, now ${moves[1]?.digest}\\): another writer published it`));
    expect(await new RegistryClient().resolveDigest(`${repo}:raced`)).toBe(moves[1]?.digest);
    expect(await new RegistryClient().tagExists(repo, "untouched")).toBe(false);
  });

  it("a tag move that fails part-way reports which tags moved and which did not", async () => {
    const failing = new FailingWrites((t) => t === "second");
    const error = await publishTagMoves(failing, [move("first", 0), move("second", 1), move("third", 0)], { sbom: undefined, log: () => {} }).catch((e: unknown) => e as Error);
    const message = (error as Error).message;
    expect(message).toContain(`tags moved: ${repo}:first@${moves[0]?.digest}; not moved: ${repo}:second, ${repo}:third`);
    expect(message).toMatch(/injected failure/);
    expect(await new RegistryClient().resolveDigest(`${repo}:first`)).toBe(moves[0]?.digest);
    expect(await new RegistryClient().tagExists(repo, "second")).toBe(false);
    expect(await new RegistryClient().tagExists(repo, "third")).toBe(false);
  });
});
