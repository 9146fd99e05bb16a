import { platformArchitecture } from "@airbyte-ci/base-images";
import type { Platform } from "@airbyte-ci/base-images";
import type { Container } from "@dagger.io/dagger";
import { ConnectorBuildError } from "../../errors.ts";
import { RegistryClient } from "../../registry/registry-client.ts";
import type { IndexEntry } from "../../registry/registry-client.ts";
import { parsePublishReference } from "../docker/publish.ts";
import type { PublishOptions, PublishResult } from "../engine.ts";
import type { SecretScrubber } from "./scrub.ts";

/** One platform's container, ready to publish. */
export interface PlatformVariant {
  readonly platform: Platform;
  readonly container: Container;
}

const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/**
 * Publishes per-platform containers as one multi-platform index at `reference`, as the Docker engine
 * does: each platform is published by the Dagger engine as `<tag>-<arch>` (its manifest carrying the
 * platform's annotations, `withAnnotation`), then the index is assembled under `<tag>` from the
 * manifests the registry holds, with the index annotations (Dagger's own publish writes none), so
 * `<tag>` appears only once every platform is there. Returns the digests the registry reports.
 */
export async function publishVariants(
  variants: readonly PlatformVariant[],
  reference: string,
  options: PublishOptions,
  errors: SecretScrubber,
  registry = new RegistryClient(),
): Promise<PublishResult> {
  const target = parsePublishReference(reference);
  const repo = `${target.registry}/${target.repository}`;
  const published = await Promise.all(
    variants.map(async ({ platform, container }) => {
      let annotated = container;
      for (const [name, value] of Object.entries(options.annotations?.platforms?.[platform] ?? {})) annotated = annotated.withAnnotation(name, value);
      const platformTag = `${repo}:${target.tag}-${platformArchitecture(platform)}`;
      let address: string;
      try {
        address = await annotated.publish(platformTag);
      } catch (error) {
        throw errors.wrapEngine("PUBLISH_FAILED", `could not publish the ${platform} image to ${platformTag}, nothing was published under ${target.tag}`, error);
      }
      const digest = DIGEST.exec(address)?.[1];
      if (!digest) throw new ConnectorBuildError("PUBLISH_FAILED", `publishing ${platformTag} answered '${address}': expected an address ending in @sha256:<64 hex digits>`);
      return { platform, entry: await manifestEntry(registry, repo, digest, platform) };
    }),
  );
  const entries: IndexEntry[] = published.map((p) => p.entry);
  const platformDigests: Partial<Record<Platform, string>> = {};
  for (const { platform, entry } of published) platformDigests[platform] = entry.digest;
  let pushed: string;
  try {
    pushed = await registry.putIndex(repo, target.tag, entries, { format: "oci", ...(options.annotations?.index ? { annotations: options.annotations.index } : {}), ...(options.untagged ? { untagged: true } : {}) });
  } catch (error) {
    throw errors.wrap("PUBLISH_FAILED", `could not write the index ${repo}:${target.tag}`, error);
  }
  if (options.untagged) return { address: `${repo}@${pushed}`, digest: pushed, platformDigests, untagged: true };
  // What the registry says the tag now is, not what we computed.
  const digest = await registry.resolveDigest(`${repo}:${target.tag}`);
  return { address: `${repo}:${target.tag}@${digest}`, digest, platformDigests };
}

/** The index entry of the manifest Dagger published for `platform` (itself, or the one entry of the index it wrote). */
async function manifestEntry(registry: RegistryClient, repo: string, digest: string, platform: Platform): Promise<IndexEntry> {
  const fetched = await registry.getManifest(`${repo}@${digest}`);
  if (fetched.kind === "manifest") return { digest: fetched.digest, size: fetched.size, mediaType: fetched.mediaType, platform };
  const [os, architecture] = platform.split("/");
  const inner = fetched.manifest.manifests.filter((m) => m.platform?.os === os && m.platform?.architecture === architecture);
  const only = inner.length === 1 ? inner[0] : fetched.manifest.manifests.length === 1 ? fetched.manifest.manifests[0] : undefined;
  if (!only) {
    throw new ConnectorBuildError("PUBLISH_FAILED", `${repo}@${digest}, published for ${platform}, is an index of ${fetched.manifest.manifests.length} manifests: expected one ${platform} manifest`);
  }
  return { digest: only.digest, size: only.size, mediaType: only.mediaType, platform };
}
