import { formatImageAddress, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { pipIndexSecrets, withPipIndex, type PipIndexOptions } from "../connector/pip-index.ts";
import { renderDockerfile } from "../dockerfile/render.ts";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import type { RegistryClient } from "../registry/registry-client.ts";
import { RegistryError } from "../registry/registry-error.ts";
import { checkBaseImage, formatSanityReport, type SanityReport } from "./sanity-checks.ts";

/** What a release asks of a registry: a {@link RegistryClient}, or any object with these three calls. */
export type ReleaseRegistry = Pick<RegistryClient, "tagExists" | "resolveDigest"> & {
  assertPlatform(reference: string, platform: Platform): Promise<unknown>;
};

/** Receives progress lines. */
export type Log = (line: string) => void;

/** What a release or publish did. */
export interface ReleaseResult {
  readonly version: string;
  readonly address: string;
  readonly digest: string;
  readonly platformDigests: Readonly<Partial<Record<Platform, string>>>;
  readonly report: SanityReport;
}

/** The error of a release stopped by the caller's abort signal (SIGINT/SIGTERM in the CLI). */
export function interrupted(): ConnectorBuildError {
  return new ConnectorBuildError("INTERRUPTED", "interrupted: nothing was recorded in the catalog");
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}

/**
 * Builds a base image version on every requested platform, one after the other, and returns the
 * images in the order of `platforms`. The one build loop of base images: `base build`, `base check`,
 * releases and publishes use it. Stops with `INTERRUPTED` between platforms once `signal` aborts.
 */
export async function buildBaseImage(
  engine: Engine,
  version: BaseImageVersion,
  platforms: readonly Platform[],
  options: { log?: Log; signal?: AbortSignal; pipIndex?: PipIndexOptions } = {},
): Promise<BuiltImage[]> {
  const images: BuiltImage[] = [];
  // The package index is a setting of this build, given as secrets: the version's recipe (and the
  // Dockerfile recorded for it) stay its own.
  const secrets = pipIndexSecrets(options.pipIndex);
  for (const platform of platforms) {
    checkAborted(options.signal);
    options.log?.(`building ${version.version} for ${platform} on ${engine.name}`);
    const recipe = withPipIndex(version.recipeFor(platform), options.pipIndex);
    images.push(await engine.build({ recipe, platform, ...(Object.keys(secrets).length > 0 ? { secrets } : {}) }));
  }
  return images;
}

/** Checks every root image digest is the manifest of its platform, before anything is built or pushed. */
export async function verifyRootImages(version: BaseImageVersion, platforms: readonly Platform[], client: ReleaseRegistry, log: Log): Promise<void> {
  for (const platform of platforms) {
    const address = formatImageAddress(version.rootImage(platform));
    log(`checking root image ${address} is the ${platform} manifest`);
    try {
      await client.assertPlatform(address, platform);
    } catch (error) {
      // The registry could not be asked (network, credentials, a server error): a failure, not a refusal.
      if (RegistryError.isInstance(error) && (["UNREACHABLE", "TIMEOUT", "AUTH"].includes(error.reason) || (error.status ?? 0) >= 500)) throw error;
      throw new ConnectorBuildError("RELEASE_REFUSED", `base image ${version.version}: root image for ${platform} refused: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Once publishing started, a failure or an interrupt may leave the tag in the registry: say what is
 * there (asked again, not assumed) and how to resume, instead of "nothing was recorded" alone.
 */
async function afterPublishFailure(
  error: unknown,
  reference: string,
  repository: string,
  tag: string,
  client: ReleaseRegistry,
  signal: AbortSignal | undefined,
  resume: string,
): Promise<unknown> {
  const wasInterrupted = signal?.aborted === true || (ConnectorBuildError.isInstance(error) && error.code === "INTERRUPTED");
  const there = await client
    .tagExists(repository, tag)
    .then(async (exists) => (exists ? await client.resolveDigest(reference).catch(() => "an unknown digest") : undefined))
    .catch(() => undefined);
  if (there === undefined) {
    return wasInterrupted ? new ConnectorBuildError("INTERRUPTED", `interrupted while publishing: ${reference} is not in the registry and nothing was recorded in the catalog`) : error;
  }
  const cause = wasInterrupted ? "interrupted while publishing" : `publishing failed (${(error as Error).message})`;
  return new ConnectorBuildError(
    wasInterrupted ? "INTERRUPTED" : "PUBLISH_FAILED",
    `${cause}: ${reference} is in the registry (${there}) but was not recorded in the catalog; to record it, ${resume}`,
    { cause: error },
  );
}

/**
 * Builds, checks and publishes one version; returns the publish result with each platform's
 * Dockerfile. Nothing is pushed unless every platform passes every check. The digest recorded is the
 * one the registry reports, read back through `client`.
 */
export async function buildCheckPublish(
  engine: Engine,
  version: BaseImageVersion,
  repository: string,
  client: ReleaseRegistry,
  log: Log,
  signal: AbortSignal | undefined,
  resume = "run the same command again with --force",
  pipIndex?: PipIndexOptions,
): Promise<ReleaseResult & { dockerfiles: Record<string, string> }> {
  const platforms = version.platforms;
  await verifyRootImages(version, platforms, client, log);
  const dockerfiles: Record<string, string> = {};
  for (const platform of platforms) dockerfiles[platform] = renderDockerfile(version.recipeFor(platform)).dockerfile;
  let images: BuiltImage[];
  let report: SanityReport;
  try {
    images = await buildBaseImage(engine, version, platforms, { log, ...(signal ? { signal } : {}), ...(pipIndex ? { pipIndex } : {}) });
    checkAborted(signal);
    log(`running ${version.sanityChecks.length} sanity checks on ${platforms.join(", ")}`);
    report = await checkBaseImage(engine, version, images);
  } catch (error) {
    // An interrupt stops the build client and removes containers: what fails then is the interrupt.
    checkAborted(signal);
    throw error;
  }
  log(formatSanityReport(report));
  if (!report.passed) {
    throw new ConnectorBuildError(
      "SANITY_CHECK_FAILED",
      `base image ${version.version} failed ${report.results.filter((r) => !r.passed).length} sanity check(s); nothing was published and the catalog is unchanged:\n${report.results
        .filter((r) => !r.passed)
        .map((r) => `  [${r.platform}] ${r.check}: expected ${r.expected}, saw ${r.seen}`)
        .join("\n")}`,
    );
  }
  checkAborted(signal);
  const reference = `${repository}:${version.version}`;
  log(`publishing ${reference} (${platforms.join(", ")})`);
  let published: Awaited<ReturnType<Engine["publish"]>>;
  let digest: string;
  try {
    published = await engine.publish(images, reference);
    // Record what the registry reports, not what the engine computed.
    digest = await client.resolveDigest(reference);
    if (digest !== published.digest) {
      throw new ConnectorBuildError("PUBLISH_FAILED", `published ${reference} as ${published.digest} but the registry reports ${digest}`);
    }
    checkAborted(signal);
  } catch (error) {
    throw await afterPublishFailure(error, reference, repository, version.version, client, signal, resume);
  }
  return { version: version.version, address: `${reference}@${digest}`, digest, platformDigests: published.platformDigests, report, dockerfiles };
}
