import { parsePlatform, splitImageReference } from "@airbyte-ci/base-images";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { describePublishedImage, fetchSbom, publishSboms } from "../supply-chain/sbom-output.ts";
import { imageSbom, indexSbom, serializeSbom } from "../supply-chain/sbom.ts";

/** Options of {@link sbomCommand}. */
export interface SbomCommandOptions {
  platform?: string;
  regenerate?: boolean;
  publish?: boolean;
  engine?: EngineChoice;
}

/**
 * `connector-build sbom <image-ref>`: prints the SBOM published beside the image, else generates it
 * by running the image in the engine (and publishes it with `--publish`).
 */
export async function sbomCommand(reference: string, opts: SbomCommandOptions): Promise<void> {
  const parts = splitImageReference(reference);
  if (parts.repository === "" || (parts.tag === undefined && parts.digest === undefined)) {
    throw new ConnectorBuildError("USAGE", `sbom: '${reference}': expected <registry>/<repository>:<tag>[@sha256:…] of a published image`);
  }
  const platform = opts.platform !== undefined ? parsePlatform(opts.platform, "--platform") : undefined;
  const repo = `${parts.registry}/${parts.repository}`;
  const client = new RegistryClient();
  const top = await client.getManifest(reference);
  let digest = top.digest;
  if (platform !== undefined && top.kind === "index") {
    const entry = top.manifest.manifests.find((m) => m.platform && `${m.platform.os}/${m.platform.architecture}` === platform);
    if (!entry) throw new ConnectorBuildError("USAGE", `sbom: ${reference} holds no ${platform} image`);
    digest = entry.digest;
  }
  if (!opts.regenerate) {
    const published = await fetchSbom(client, repo, digest);
    if (published !== undefined) {
      process.stderr.write(`the SBOM published beside ${repo}@${digest}\n`);
      process.stdout.write(`${JSON.stringify(JSON.parse(published), null, 2)}\n`);
      return;
    }
  }
  const engine = await selectEngine(opts.engine ?? "auto");
  try {
    process.stderr.write(`generating the SBOM of ${repo}@${digest} by running it\n`);
    const described = await describePublishedImage(engine, client, reference, platform);
    const tag = described.tag !== undefined ? { tag: described.tag } : {};
    const json =
      described.isIndex && platform === undefined
        ? serializeSbom(
            indexSbom(
              { repository: repo, ...tag, digest: described.digest },
              described.platforms.map((p) => ({ platform: p.platform, subject: { repository: repo, ...tag, ...(p.digest !== undefined ? { digest: p.digest } : {}) }, contents: p.contents })),
              described.base,
            ),
            2,
          )
        : serializeSbom(imageSbom({ repository: repo, ...tag, digest }, described.platforms[0]?.platform ?? "linux/amd64", described.platforms[0]?.contents ?? { debianPackages: [], pythonDistributions: [] }, described.base), 2);
    if (opts.publish) {
      const published = await publishSboms(client, {
        repo,
        ...tag,
        ...(described.isIndex && platform === undefined ? { indexDigest: described.digest } : {}),
        platforms: described.platforms,
        ...(described.base !== undefined ? { base: described.base } : {}),
      });
      for (const p of published) process.stderr.write(`published ${p.address}\n`);
      // Print what was published (the index SBOM then links to the platform SBOMs).
      const stored = await fetchSbom(client, repo, digest);
      if (stored !== undefined) {
        process.stdout.write(`${JSON.stringify(JSON.parse(stored), null, 2)}\n`);
        return;
      }
    }
    process.stdout.write(`${json}\n`);
  } finally {
    await engine.close();
  }
}
