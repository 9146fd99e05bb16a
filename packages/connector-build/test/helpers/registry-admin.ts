// Registry operations only the tests need (listing tags, deleting manifests, reading a manifest's
// platform), kept out of the published client. They go through the client's transport, so they use
// the same authentication and error reporting.
import type { RegistryClient } from "../../src/registry/registry-client.ts";
import { assertWellFormedDigest, indexRefusal } from "../../src/registry/platforms.ts";
import type { ImagePlatform } from "../../src/registry/oci-types.ts";
import { parseRepository } from "../../src/registry/references.ts";
import { RegistryError } from "../../src/registry/registry-error.ts";
import { tagListSchema } from "../../src/registry/schemas.ts";
import { registryApiBase, scopeFor } from "../../src/registry/transport.ts";

/** All tags of a repository (`127.0.0.1:5000/python`), following `Link` pagination, in the registry's order. */
export async function listTags(client: RegistryClient, repository: string, options: { pageSize?: number } = {}): Promise<string[]> {
  const repo = parseRepository(repository, "list tags");
  const base = registryApiBase(repo.registry);
  const first = new URL(`${base}/v2/${repo.repository}/tags/list`);
  if (options.pageSize !== undefined) first.searchParams.set("n", String(options.pageSize));
  const tags: string[] = [];
  const seen = new Set<string>();
  let url: string | undefined = first.toString();
  for (let page = 1; url !== undefined; page++) {
    if (seen.has(url) || page > 10_000) {
      throw new RegistryError("HTTP_STATUS", `Registry ${repo.registry}: listing the tags of ${repository} loops on page ${url}: expected Link headers to end`, {
        registry: repo.registry,
        url,
      });
    }
    seen.add(url);
    const res = await client.transport.send({
      operation: `list the tags of ${repository} (page ${page})`,
      expected: `the repository '${repo.repository}' to exist in ${repo.registry}`,
      registry: repo.registry,
      method: "GET",
      url,
      scopes: [scopeFor(repo.repository, "pull")],
      accept: "application/json",
      ok: [200],
    });
    const body = await client.transport.readJson(res, tagListSchema, `tags of ${repository}`, repo.registry, url);
    for (const tag of body.tags ?? []) tags.push(tag);
    url = nextLink(res.headers.get("link"), url);
  }
  return tags;
}

/** Deletes manifest `digest` from `repository` (every tag pointing to it goes too). Use a fresh client to read afterwards. */
export async function deleteManifest(client: RegistryClient, repository: string, digest: string): Promise<void> {
  const repo = parseRepository(repository, "delete a manifest");
  assertWellFormedDigest(digest, `delete manifest of ${repository}`);
  const url = `${registryApiBase(repo.registry)}/v2/${repo.repository}/manifests/${digest}`;
  const res = await client.transport.send({
    operation: `delete manifest ${digest} of ${repository}`,
    expected: "202 Accepted (the manifest exists and the registry allows deletes)",
    registry: repo.registry,
    method: "DELETE",
    url,
    scopes: [scopeFor(repo.repository, "delete")],
    ok: [200, 202, 204],
  });
  await res.body?.cancel();
}

/** The platform of a single-platform manifest, read from its image config blob; an index is refused with the platforms it holds. */
export async function manifestPlatform(client: RegistryClient, reference: string): Promise<ImagePlatform> {
  const fetched = await client.getManifest(reference);
  if (fetched.kind === "index") throw indexRefusal(reference, fetched, undefined);
  return client.configPlatform(fetched);
}

function nextLink(header: string | null, current: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m !== null && /\brel\s*=\s*"?next"?/i.test(m[2] as string)) return new URL(m[1] as string, current).toString();
  }
  return undefined;
}

