/**
 * The output phase of one connector's build, once every platform is built and verified: load into
 * Docker, write an OCI tarball (with its SBOMs beside it), or publish an index (plain or
 * reproducible) with its SBOMs in the registry.
 */
import { join } from "node:path";
import { platformArchitecture } from "@airbyte-ci/base-images";
import type { BuiltImage } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { baseImageAnnotations, type PublishedBaseImage } from "../connector/published-base.ts";
import type { PreparedConnector } from "../connector/python-build.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { collectContents, publishSboms, writeOciSboms } from "../supply-chain/sbom-output.ts";
import { publishReproducible } from "../supply-chain/reproducible.ts";
import { signAndAttest } from "../trust/sign-and-attest.ts";
import type { BuildConnectorsOptions, ConnectorBuildResult } from "./build-connectors.ts";

/** What the output phase of one connector needs. */
export interface OutputRequest {
  readonly connector: PreparedConnector;
  readonly images: readonly BuiltImage[];
  /** Filled in with references, digests, paths and SBOMs. */
  readonly result: ConnectorBuildResult;
  readonly options: BuildConnectorsOptions;
  /** True when `oci:` names a folder holding one tarball per connector. */
  readonly ociMany: boolean;
  readonly log: (line: string) => void;
  /** When the connector's build started (ms since 1970), for its provenance. */
  readonly started: number;
  /** SOURCE_DATE_EPOCH of a reproducible build. */
  readonly epoch?: number;
}

/** Writes one connector's images where the build's `output` says. */
export async function writeOutput(request: OutputRequest): Promise<void> {
  const { connector, images, result, options, log } = request;
  const { metadata } = connector;
  const publishedBase = connector.publishedBase as PublishedBaseImage;
  const output = options.output;
  // SBOM contents are read before any output: a failure outputs nothing.
  const wantsSbom = options.sbom !== false && (output.kind === "oci" || output.kind === "registry");
  const contents = wantsSbom ? await collectContents(options.engine, images) : [];
  const base = { name: publishedBase.name, digest: publishedBase.digest };
  const reference = `${metadata.dockerRepository}:${metadata.dockerImageTag}`;
  if (output.kind === "docker") {
    for (const [i, image] of images.entries()) {
      const tag = images.length > 1 ? `${reference}-${platformArchitecture(image.platform)}` : reference;
      await options.engine.loadIntoDocker(image, tag);
      const entry = result.platforms[i];
      if (entry) entry.reference = tag;
    }
    result.output = { kind: "docker", reference };
  } else if (output.kind === "oci") {
    const path = request.ociMany ? join(output.path, `${metadata.technicalName}.tar`) : output.path;
    await options.engine.exportOci(images, path);
    result.output = { kind: "oci", path };
    if (wantsSbom) {
      const platforms = images.map((image, i) => ({ platform: image.platform, contents: contents[i] as (typeof contents)[number] }));
      result.sbom = { files: await writeOciSboms(path, { repository: metadata.dockerRepository, tag: metadata.dockerImageTag, platforms, base }) };
    }
  } else if (output.kind === "registry") {
    const target = `${output.prefix}/${reference}`;
    if (options.registry && !options.force && (await options.registry.tagExists(`${output.prefix}/${metadata.dockerRepository}`, metadata.dockerImageTag))) {
      throw new ConnectorBuildError("USAGE", `${target} appeared in the registry during the build (another build pushed it): expected an unused tag (or --force)`);
    }
    const annotations = baseImageAnnotations(publishedBase, options.platforms);
    // The index goes in by digest first; its SBOMs and signatures beside it; the tag moves last, so a
    // tag never names an image whose SBOM or signature failed (the reproducible path tags as it publishes).
    const published =
      request.epoch !== undefined
        ? await publishReproducible(options.engine, images, target, { epoch: request.epoch, baseAddress: publishedBase.address, annotations, log })
        : await options.engine.publish(images, target, { annotations, untagged: true });
    for (const entry of result.platforms) {
      const digest = published.platformDigests[entry.platform];
      if (digest) entry.digest = digest;
    }
    const client = options.registry ?? new RegistryClient();
    const repo = target.slice(0, target.lastIndexOf(":"));
    result.output = { kind: "registry", reference: published.address, digest: published.digest };
    try {
      if (wantsSbom) {
        log("publishing SBOMs");
        const platforms = images.map((image, i) => ({
          platform: image.platform,
          ...(published.platformDigests[image.platform] !== undefined ? { digest: published.platformDigests[image.platform] as string } : {}),
          contents: contents[i] as (typeof contents)[number],
        }));
        result.sbom = { published: await publishSboms(client, { repo, tag: metadata.dockerImageTag, indexDigest: published.digest, platforms, base }) };
      }
      if (options.signKey) {
        log("signing; attesting provenance and SBOMs");
        const provenanceInputs = { connector: metadata.technicalName, connectorDir: metadata.dir, platforms: options.platforms, baseImage: base, startedOn: new Date(request.started) };
        await signAndAttest({ registry: client, reference: target, indexDigest: published.digest, platformDigests: published.platformDigests, key: options.signKey, provenanceInputs });
      }
    } catch (error) {
      const where = published.untagged ? `nothing was tagged: the image is in the registry by digest only (${repo}@${published.digest})` : `${published.address} was already tagged`;
      throw new ConnectorBuildError("PUBLISH_FAILED", `connector ${metadata.technicalName}: ${(error as Error).message}; ${where}`, { cause: error });
    }
    if (published.untagged) {
      // Another writer may have taken the tag while this build verified and published.
      if (!options.force && (await client.resolveDigest(target, { cached: false }).catch(() => undefined)) !== undefined) {
        throw new ConnectorBuildError("USAGE", `${target} appeared in the registry during the build (another build pushed it): expected an unused tag (or --force); this build's image is in the registry by digest only (${repo}@${published.digest})`);
      }
      const index = await client.getManifest(`${repo}@${published.digest}`);
      await client.putManifest(repo, metadata.dockerImageTag, index.bytes, index.mediaType);
      result.output = { kind: "registry", reference: `${target}@${published.digest}`, digest: published.digest };
    }
  }
}
