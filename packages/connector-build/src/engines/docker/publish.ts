import type { ChildProcess } from "node:child_process";
import { platformArchitecture, splitImageReference } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { RegistryClient } from "../../registry/registry-client.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsFromEnv } from "../../registry/registry-auth.ts";
import { registerCleanup } from "../../shared/cleanup.ts";
import { docker } from "./docker-client.ts";

/**
 * `docker push` reads credentials from a Docker config only: when REGISTRY_USERNAME/REGISTRY_PASSWORD
 * apply to `registry` (as they do for the registry client), they go into a private temporary
 * DOCKER_CONFIG (0700 folder, 0600 file) that lives for the push and is removed after, and by the
 * CLI's interrupt cleanup when SIGINT or SIGTERM ends the push (the `docker push` client is stopped
 * first, so nothing reads or recreates it).
 */
async function withPushCredentials<T>(registry: string, fn: (options: { env?: NodeJS.ProcessEnv; onSpawn: (child: ChildProcess) => void }) => Promise<T>): Promise<T> {
  let client: ChildProcess | undefined;
  const onSpawn = (child: ChildProcess) => (client = child);
  const creds = credentialsFromEnv(registry);
  if (!creds) {
    const unregister = registerCleanup(() => void client?.kill("SIGKILL"));
    try {
      return await fn({ onSpawn });
    } finally {
      unregister();
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "airbyte-ci-docker-config-"));
  const unregister = registerCleanup(() => {
    client?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const auth = Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
    return await fn({ env: { ...process.env, DOCKER_CONFIG: dir }, onSpawn });
  } finally {
    unregister();
    rmSync(dir, { recursive: true, force: true });
  }
}
import type { BuiltImage, PublishOptions, PublishResult } from "../engine.ts";
import { annotatedOciManifest } from "./oci-annotations.ts";
import { MEDIA_TYPES } from "../../registry/oci-types.ts";

/** Splits `registry/repository:tag` for publishing; a digest or a missing tag is refused. */
export function parsePublishReference(reference: string): { registry: string; repository: string; tag: string } {
  const parts = splitImageReference(reference);
  if (parts.digest !== undefined || parts.tag === undefined || parts.tag === "") {
    throw new ConnectorBuildError("USAGE", `cannot publish to '${reference}': expected <registry>/<repository>:<tag> without a digest`);
  }
  return { registry: parts.registry, repository: parts.repository, tag: parts.tag };
}

/**
 * Publishes images built on the local Docker as one multi-platform index: each platform is pushed
 * as `<tag>-<arch>`, then the index is assembled under `<tag>` from the manifests the registry holds
 * (so `<tag>` appears only once every platform is there), and its digest is read back. With
 * annotations, each pushed manifest is rewritten as an OCI manifest carrying them (same config and
 * layer blobs) before the index, itself annotated, is assembled.
 */
export async function publishImages(
  images: readonly BuiltImage[],
  reference: string,
  client = new RegistryClient(),
  options: PublishOptions = {},
): Promise<PublishResult> {
  const target = parsePublishReference(reference);
  if (images.length === 0) throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: no image to publish`);
  const repo = `${target.registry}/${target.repository}`;
  const entries = [];
  const platformDigests: Record<string, string> = {};
  for (const image of images) {
    const platformTag = `${repo}:${target.tag}-${platformArchitecture(image.platform)}`;
    const tagged = await docker(["tag", image.ref, platformTag]);
    if (tagged.exitCode !== 0) throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: cannot tag ${image.ref}: ${lastLines(tagged.stderr, 3)}`);
    const pushed = await withPushCredentials(target.registry, (options) => docker(["push", platformTag], options));
    if (pushed.exitCode !== 0) {
      throw new ConnectorBuildError(
        "PUBLISH_FAILED",
        `publish ${reference}: push of ${platformTag} (${image.platform}) failed, nothing was published under ${target.tag}: ${lastLines(pushed.stderr || pushed.stdout, 3)}`,
      );
    }
    const pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    if (!pushedDigest) throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: could not read the digest of ${platformTag} from docker push`);
    let manifest = await client.getManifest(`${repo}@${pushedDigest}`);
    const annotations = options.annotations?.platforms?.[image.platform];
    if (annotations !== undefined && Object.keys(annotations).length > 0) {
      if (manifest.kind !== "manifest") throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: docker push of ${platformTag} produced an index: expected one manifest`);
      const annotated = annotatedOciManifest(manifest.manifest, annotations);
      const annotatedDigest = await client.putManifest(repo, `${target.tag}-${platformArchitecture(image.platform)}`, annotated, MEDIA_TYPES.ociManifest);
      manifest = await client.getManifest(`${repo}@${annotatedDigest}`);
    }
    entries.push({ digest: manifest.digest, size: manifest.size, mediaType: manifest.mediaType, platform: image.platform });
    platformDigests[image.platform] = manifest.digest;
  }
  const pushed = await client.putIndex(repo, target.tag, entries, { format: "oci", ...(options.annotations?.index ? { annotations: options.annotations.index } : {}), ...(options.untagged ? { untagged: true } : {}) });
  if (options.untagged) return { address: `${repo}@${pushed}`, digest: pushed, platformDigests, untagged: true };
  // What the registry says the tag now is, not what we computed.
  const digest = await client.resolveDigest(`${repo}:${target.tag}`);
  return { address: `${repo}:${target.tag}@${digest}`, digest, platformDigests };
}
