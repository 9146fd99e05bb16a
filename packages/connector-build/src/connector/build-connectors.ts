import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { platformArchitecture, type BaseImageCatalog, type Platform } from "@airbyte-ci/base-images";
import type { BuiltImage, CacheReport, Engine } from "../engines/engine.ts";
import { AirbyteCiError } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { findSpecMessage } from "../inspect/image-probes.ts";
import { createLimiter } from "../shared/pool.ts";
import { pipIndexSecrets, withPipIndex, type PipIndexOptions } from "./pip-index.ts";
import { baseImageAnnotations, resolvePublishedBase } from "./published-base.ts";
import { preflightBuild, type BuildOutput } from "./build-preflight.ts";
import { prepareConnector, pythonConnectorRecipe, type PreparedConnector } from "./python-build.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { collectContents, publishSboms, writeOciSboms, type PublishedSbom } from "../supply-chain/sbom-output.ts";
import { prepareOffline, type OfflinePlan } from "../supply-chain/offline-build.ts";
import { publishReproducible, sourceDateEpoch, withSourceDateEpoch } from "../supply-chain/reproducible.ts";

export type { BuildOutput } from "./build-preflight.ts";

/** Parses `--output docker|oci:<file>|registry:<ref>`. */
export function parseBuildOutput(value: string): BuildOutput {
  if (value === "docker") return { kind: "docker" };
  if (value === "none") return { kind: "none" };
  if (value.startsWith("oci:") && value.length > 4) return { kind: "oci", path: resolve(value.slice(4)) };
  if (value.startsWith("registry:") && value.length > 9) {
    const prefix = value.slice(9).replace(/\/+$/, "");
    if (/[@\s]/.test(prefix)) throw new ConnectorBuildError("USAGE", `--output ${value}: expected registry:<registry>[/<namespace>], e.g. registry:127.0.0.1:5000`);
    return { kind: "registry", prefix };
  }
  throw new ConnectorBuildError("USAGE", `--output '${value}': expected docker, oci:<file>, registry:<registry>[/<namespace>] or none`);
}

/** A step of one connector's build: metadata, base image and hooks; engine build; `spec`; output. */
export type BuildPhase = "prepare" | "build" | "verify" | "output";

/** The result of building one connector, as `--json` prints it. */
export interface ConnectorBuildResult {
  connector: string;
  dir: string;
  status: "success" | "failed";
  error?: { code: string; message: string };
  dockerRepository?: string;
  dockerImageTag?: string;
  baseImage?: { version: string; address: string | undefined };
  durationMs: number;
  /** Time spent in each phase, summed over platforms (ms). */
  phasesMs?: Partial<Record<BuildPhase, number>>;
  platforms: Array<{
    platform: Platform;
    imageId: string;
    reference?: string;
    digest?: string;
    verification: { spec: boolean; detail: string };
    cache?: CacheReport;
  }>;
  output?: { kind: BuildOutput["kind"]; reference?: string; digest?: string; path?: string };
  /** SBOMs written beside an `oci:` output, or published beside a `registry:` one. */
  sbom?: { files?: string[]; published?: PublishedSbom[] };
}

/** Options of {@link buildConnectors}. */
export interface BuildConnectorsOptions {
  readonly engine: Engine;
  readonly catalog: BaseImageCatalog;
  readonly platforms: readonly Platform[];
  readonly output: BuildOutput;
  readonly concurrency?: number;
  readonly secrets?: Readonly<Record<string, string>>;
  /** Package index settings for every dependency install, passed as build secrets. Default: pip's own (PyPI). */
  readonly pipIndex?: PipIndexOptions;
  /** How the user named the catalog (`local`, a path), for hints in errors. Default: none. */
  readonly catalogRef?: string;
  readonly onProgress?: (connector: string, line: string) => void;
  /** Milliseconds loading a hook file, and each hook, may take. Default 60 000. */
  readonly hookTimeoutMs?: number;
  /** Milliseconds `spec` may run per platform before the build fails and its container is removed. Default 120 000. */
  readonly specTimeoutMs?: number;
  /** Registry client the published base image is read from. Default: a client with REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config. */
  readonly baseRegistry?: RegistryClient;
  /** Replace existing output files and registry tags. Default false: they are refused before building. */
  readonly force?: boolean;
  /** Checks registry outputs before any build (reachable, pushes accepted, tag unused). Default: not checked. */
  readonly registry?: RegistryClient;
  /** Write (oci:) or publish (registry:) a CycloneDX SBOM per image and per index. Default: true. */
  readonly sbom?: boolean;
  /** Build from each connector's connector-build.lock and this wheelhouse, with no network in build containers. */
  readonly offline?: { readonly wheelhouse: string };
  /** Publish (registry: output only) the same digest for the same inputs: times from SOURCE_DATE_EPOCH, layers normalised. */
  readonly reproducible?: boolean;
  /** Called when a connector enters a phase (`dir` is the absolute folder); its result arrives through `onDone`. Default: none. */
  readonly onPhase?: (dir: string, connector: string, phase: BuildPhase, detail: string) => void;
  /** Called with each connector's result as soon as it is finished. Default: none. */
  readonly onDone?: (result: ConnectorBuildResult) => void;
}

/** How long `spec` may run before the build fails and its container is removed. */
const DEFAULT_SPEC_TIMEOUT_MS = 120_000;

/** Runs `spec` through the entrypoint, without network (spec must not need one), and requires a JSON line whose type is SPEC. */
export async function verifySpec(engine: Engine, image: BuiltImage, timeoutMs = DEFAULT_SPEC_TIMEOUT_MS): Promise<{ spec: boolean; detail: string; message?: unknown }> {
  const run = await engine.run(image, ["spec"], { useEntrypoint: true, timeoutMs, network: false });
  const message = findSpecMessage(run.stdout);
  if (message) return { spec: true, detail: "spec answered with a SPEC message", message };
  return {
    spec: false,
    detail: `spec exited with ${run.exitCode} and printed no JSON line with "type": "SPEC"; last output:\n${lastLines(`${run.stdout}\n${run.stderr}`, 10) || "(none)"}`,
  };
}

/** Published base images resolved once per buildConnectors call (one registry read per base image version, not per connector). */
type BaseCache = Map<string, ReturnType<typeof resolvePublishedBase>>;

async function buildOne(dir: string, options: BuildConnectorsOptions, ociMany: boolean, bases: BaseCache): Promise<ConnectorBuildResult> {
  const started = Date.now();
  const result: ConnectorBuildResult = { connector: dir.split("/").filter(Boolean).at(-1) ?? dir, dir, status: "failed", durationMs: 0, platforms: [] };
  const log = (line: string) => options.onProgress?.(result.connector, line);
  const phasesMs: Partial<Record<BuildPhase, number>> = {};
  let current: { phase: BuildPhase; since: number } | undefined;
  const endPhase = () => {
    if (current) phasesMs[current.phase] = (phasesMs[current.phase] ?? 0) + performance.now() - current.since;
    current = undefined;
  };
  const enter = (phase: BuildPhase, detail = "") => {
    endPhase();
    current = { phase, since: performance.now() };
    options.onPhase?.(dir, result.connector, phase, detail);
  };
  let offline: OfflinePlan | undefined;
  try {
    enter("prepare");
    const catalogRef = options.catalogRef !== undefined ? { catalogRef: options.catalogRef } : {};
    const prepared: PreparedConnector = await prepareConnector(dir, options.catalog, {
      ...catalogRef,
      ...(options.hookTimeoutMs !== undefined ? { hookTimeoutMs: options.hookTimeoutMs } : {}),
    });
    const { metadata } = prepared;
    result.connector = metadata.technicalName;
    result.dockerRepository = metadata.dockerRepository;
    result.dockerImageTag = metadata.dockerImageTag;
    result.baseImage = { version: prepared.baseImage.version, address: prepared.baseImage.publishedAddress };
    for (const p of options.platforms) prepared.baseImage.rootImage(p);
    const baseKey = `${prepared.baseImage.version}\0${prepared.baseImage.publishedAddress ?? ""}`;
    let pending = bases.get(baseKey);
    if (!pending) {
      pending = resolvePublishedBase(prepared.baseImage, options.platforms, { ...catalogRef, ...(options.baseRegistry !== undefined ? { client: options.baseRegistry } : {}) });
      pending.catch(() => bases.delete(baseKey));
      bases.set(baseKey, pending);
    }
    const publishedBase = await pending;
    const connector: PreparedConnector = { ...prepared, publishedBase };
    // The lock and wheelhouse are checked before anything is built (offline builds).
    if (options.offline) offline = prepareOffline(connector, options.platforms, options.offline.wheelhouse);
    // Recipes for every platform first: a hook failing on any platform stops before any build.
    const recipes = [];
    const epoch = options.reproducible ? await sourceDateEpoch(metadata.dir) : undefined;
    for (const platform of options.platforms) {
      const common = await pythonConnectorRecipe(connector, platform);
      // Offline: the locked artifacts from the wheelhouse, no package index at all.
      let recipe = offline ? offline.recipe(platform, common) : withPipIndex(common, options.pipIndex);
      // Only the connector's own steps (after FROM): the published base's layers are reused as they are.
      if (epoch !== undefined) recipe = withSourceDateEpoch(recipe, epoch);
      recipes.push({ platform, recipe });
    }
    const secrets = offline ? { ...options.secrets } : { ...options.secrets, ...pipIndexSecrets(options.pipIndex) };
    const images: BuiltImage[] = [];
    for (const { platform, recipe } of recipes) {
      log(`building ${platform} on base image ${prepared.baseImage.version}${offline ? " offline (no network, locked artifacts)" : ""}`);
      if (offline) await offline.seed(options.engine, platform, log);
      enter("build", platform);
      const image = await options.engine.build({
        recipe,
        platform,
        contextDir: metadata.dir,
        ...(offline ? { network: "none" as const } : {}),
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
        onProgress: (line) => log(line),
      });
      log(`verifying ${platform}: spec`);
      enter("verify", platform);
      const verification = await verifySpec(options.engine, image, options.specTimeoutMs);
      result.platforms.push({ platform, imageId: image.ref, verification: { spec: verification.spec, detail: verification.detail }, ...(image.cache ? { cache: image.cache } : {}) });
      if (!verification.spec) {
        throw new ConnectorBuildError("VERIFICATION_FAILED", `connector ${metadata.technicalName} (${platform}): ${verification.detail}`);
      }
      images.push(image);
    }
    // SBOM contents are read before any output: a failure outputs nothing.
    const wantsSbom = options.sbom !== false && (options.output.kind === "oci" || options.output.kind === "registry");
    const contents = wantsSbom ? await collectContents(options.engine, images) : [];
    const base = { name: publishedBase.name, digest: publishedBase.digest };
    // Every platform built and verified: only now is anything output.
    const reference = `${metadata.dockerRepository}:${metadata.dockerImageTag}`;
    const output = options.output;
    enter("output", output.kind);
    if (output.kind === "docker") {
      for (const [i, image] of images.entries()) {
        const tag = images.length > 1 ? `${reference}-${platformArchitecture(image.platform)}` : reference;
        await options.engine.loadIntoDocker(image, tag);
        const entry = result.platforms[i];
        if (entry) entry.reference = tag;
      }
      result.output = { kind: "docker", reference };
    } else if (output.kind === "oci") {
      const path = ociMany ? join(output.path, `${metadata.technicalName}.tar`) : output.path;
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
      const published =
        epoch !== undefined
          ? await publishReproducible(options.engine, images, target, { epoch, baseAddress: publishedBase.address, annotations, log })
          : await options.engine.publish(images, target, { annotations });
      for (const entry of result.platforms) {
        const digest = published.platformDigests[entry.platform];
        if (digest) entry.digest = digest;
      }
      result.output = { kind: "registry", reference: published.address, digest: published.digest };
      if (wantsSbom) {
        log("publishing SBOMs");
        const repo = target.slice(0, target.lastIndexOf(":"));
        const platforms = images.map((image, i) => ({ platform: image.platform, ...(published.platformDigests[image.platform] !== undefined ? { digest: published.platformDigests[image.platform] as string } : {}), contents: contents[i] as (typeof contents)[number] }));
        result.sbom = { published: await publishSboms(options.registry ?? new RegistryClient(), { repo, tag: metadata.dockerImageTag, indexDigest: published.digest, platforms, base }) };
      }
    }
    result.status = "success";
  } catch (error) {
    result.error = {
      code: AirbyteCiError.isInstance(error) ? error.code : "BUILD_FAILED",
      message: error instanceof Error ? error.message : String(error),
    };
  }
  offline?.cleanup();
  endPhase();
  result.phasesMs = Object.fromEntries(Object.entries(phasesMs).map(([k, v]) => [k, Math.round(v)]));
  result.durationMs = Date.now() - started;
  options.onDone?.(result);
  return result;
}

/**
 * Builds connectors, each for every platform, verifies each image answers `spec`, then outputs it.
 * A connector with any failing platform outputs nothing; others go on. Connectors build `concurrency`
 * at a time (default 1); platforms of one connector one after another.
 */
export async function buildConnectors(dirs: readonly string[], options: BuildConnectorsOptions): Promise<ConnectorBuildResult[]> {
  if (dirs.length === 0) throw new ConnectorBuildError("USAGE", "no connector directory given: expected connector-build build <connector-dir>...");
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ConnectorBuildError("INVALID_CONNECTOR", `${dir} is not a directory: expected a connector folder holding metadata.yaml`);
    }
  }
  const { ociMany, release } = await preflightBuild(dirs.map((dir) => resolve(dir)), options);
  try {
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    const limit = createLimiter(concurrency);
    const bases: BaseCache = new Map();
    return await Promise.all(dirs.map((dir) => limit(() => buildOne(resolve(dir), options, ociMany, bases))));
  } finally {
    release();
  }
}
