/**
 * The last step of `rebase`: everything beside a tag goes in first, the tags move last.
 *
 * 1. every rebased index (a single-platform image's manifest is already there) is pushed BY DIGEST;
 * 2. every SBOM is pushed (they refer to digests, under their own `sha256-<digest>.sbom` tags);
 * 3. every tag is read again: one that another writer moved since the rebase read it refuses the
 *    whole publish, before any tag moves;
 * 4. the tags move one by one, each read again just before, each read back after.
 * A failure says exactly what is in the registry: what was pushed by digest only, which tags moved
 * and which did not.
 */
import type { Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import type { ImageContents } from "./image-contents.ts";
import { publishSboms, type PublishedSbom } from "./sbom-output.ts";

/** One rebased image, ready to be published under its tag. */
export interface TagMove {
  /** The reference as given, for messages. */
  readonly reference: string;
  /** `registry/repository`. */
  readonly repo: string;
  readonly tag: string;
  /** The index (or single manifest) to put under the tag, its media type and digest. */
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: string;
  readonly isIndex: boolean;
  /** What the tag pointed at when the rebase read it (undefined: it did not exist). */
  readonly tagWas: string | undefined;
  /** Per-platform manifests and contents, for the SBOMs (contents undefined: no SBOM). */
  readonly platforms: ReadonlyArray<{ platform: Platform; digest: string; contents: ImageContents | undefined }>;
}

/** What {@link publishTagMoves} published per image, in the order given. */
export interface PublishedMove {
  readonly digest: string;
  readonly sboms?: readonly PublishedSbom[];
}

/**
 * What a tag points at now, read with a fresh client (a client remembers the tags it wrote), or
 * undefined when the tag does not exist.
 */
export async function currentTagDigest(repo: string, tag: string): Promise<string | undefined> {
  const fresh = new RegistryClient();
  if (!(await fresh.tagExists(repo, tag))) return undefined;
  return fresh.resolveDigest(`${repo}:${tag}`);
}

function describe(value: string | undefined): string {
  return value ?? "no such tag";
}

function failure(message: string, cause: unknown): ConnectorBuildError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ConnectorBuildError("PUBLISH_FAILED", `${message}: ${reason}`, { cause });
}

/** Publishes rebased images: see the module comment. `sbom`: the base the SBOMs name, or undefined for no SBOM. */
export async function publishTagMoves(
  client: RegistryClient,
  moves: readonly TagMove[],
  options: { sbom: { name: string; digest: string } | undefined; log: (line: string) => void },
): Promise<PublishedMove[]> {
  const byDigest = moves.map((m) => `${m.repo}@${m.digest}`);
  const pushedOnly = `no tag was moved; pushed by digest only: ${byDigest.join(", ") || "nothing"}`;
  // 1 and 2: everything that is not a tag.
  const sboms: Array<PublishedSbom[] | undefined> = [];
  try {
    for (const move of moves) {
      if (move.isIndex) await client.putManifest(move.repo, move.digest, move.bytes, move.mediaType);
      if (options.sbom === undefined) {
        sboms.push(undefined);
        continue;
      }
      options.log(`publishing SBOMs of ${move.repo}@${move.digest}`);
      sboms.push(
        await publishSboms(client, {
          repo: move.repo,
          tag: move.tag,
          ...(move.isIndex ? { indexDigest: move.digest } : {}),
          platforms: move.platforms.map((p) => ({ platform: p.platform, digest: p.digest, contents: p.contents as ImageContents })),
          base: options.sbom,
        }),
      );
    }
  } catch (error) {
    throw failure(`rebase: publishing the rebased images and their SBOMs failed; ${pushedOnly}`, error);
  }
  // 3: no tag moves when another writer moved one of them.
  for (const move of moves) {
    const now = await currentTagDigest(move.repo, move.tag);
    if (now !== move.tagWas) {
      throw new ConnectorBuildError(
        "PUBLISH_FAILED",
        `rebase ${move.reference}: ${move.repo}:${move.tag} changed while rebasing (was ${describe(move.tagWas)}, now ${describe(now)}): another writer published it; expected it unchanged; ${pushedOnly}`,
      );
    }
  }
  // 4: the tags, last.
  const moved: string[] = [];
  const published: PublishedMove[] = [];
  for (const [i, move] of moves.entries()) {
    const address = `${move.repo}:${move.tag}`;
    const notMoved = () => moves.slice(i).map((m) => `${m.repo}:${m.tag}`).join(", ");
    const state = () => `tags moved: ${moved.join(", ") || "none"}; not moved: ${notMoved()} (their images are pushed by digest: ${byDigest.slice(i).join(", ")})`;
    let reported: string | undefined;
    try {
      const now = await currentTagDigest(move.repo, move.tag);
      if (now !== move.tagWas) {
        throw new ConnectorBuildError("PUBLISH_FAILED", `${address} changed while rebasing (was ${describe(move.tagWas)}, now ${describe(now)}): another writer published it`);
      }
      options.log(`publishing ${address} (${move.digest})`);
      await client.putManifest(move.repo, move.tag, move.bytes, move.mediaType);
      reported = await currentTagDigest(move.repo, move.tag);
    } catch (error) {
      throw failure(`rebase ${move.reference}: moving ${address} failed; ${state()}`, error);
    }
    if (reported !== move.digest) {
      throw new ConnectorBuildError("PUBLISH_FAILED", `rebase ${move.reference}: pushed ${address} as ${move.digest} but the registry reports ${describe(reported)}; ${state()}`);
    }
    moved.push(`${address}@${move.digest}`);
    const sbom = sboms[i];
    published.push({ digest: move.digest, ...(sbom !== undefined ? { sboms: sbom } : {}) });
  }
  return published;
}
