import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { AirbyteCiError, type BaseImageCatalog, type ImageRecipe, type Platform } from "@airbyte-ci/base-images";
import { createHash } from "node:crypto";
import type { BuiltImage, CacheReport, Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { verifySpec } from "../inspect/spec.ts";
import { SpecCache } from "../inspect/spec-cache.ts";
import { createLimiter, machineConcurrency } from "../shared/pool.ts";
import { pipIndexSecrets, type PipIndexOptions } from "../connector/pip-index.ts";
import { resolvePublishedBase } from "../connector/published-base.ts";
import { prepareConnector, pythonConnectorBuild, type PreparedConnector } from "../connector/python-build.ts";
import { checkLock } from "../connector/lock-check.ts";
import type { Installer, InstallStrategy } from "../connector/dependency-install.ts";
import type { RegistryClient } from "../registry/registry-client.ts";
import type { PublishedSbom } from "../supply-chain/sbom-output.ts";
import { prepareOffline, type OfflinePlan } from "../supply-chain/offline-build.ts";
import { sourceDateEpoch } from "../supply-chain/reproducible.ts";
import { preflightBuild } from "./preflight.ts";
import type { BuildOutput } from "./output.ts";
import { writeOutput } from "./outputs.ts";
import { DependencyGates } from "./dependency-gates.ts";
import type { SigningKey } from "../trust/keys.ts";

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
  /** When this connector's build started (ISO 8601, UTC): where its bar starts on a fleet timeline. */
  startedAt?: string;
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
  /** Connectors built at once. Default: the machine's cores (`os.availableParallelism()`). */
  readonly concurrency?: number;
  readonly secrets?: Readonly<Record<string, string>>;
  /** Package index settings for every dependency install, passed as build secrets. Default: pip's own (PyPI). */
  readonly pipIndex?: PipIndexOptions;
  /** How the user named the catalog (`local`, a path), for hints in errors. Default: none. */
  readonly catalogRef?: string;
  readonly onProgress?: (connector: string, line: string) => void;
  /** Milliseconds loading a hook file, and each hook, may take. Default 60 000. */
  readonly hookTimeoutMs?: number;
  /** Where images that answered `spec` are remembered, so an identical rebuild (same image id) is not verified again; `false` verifies every build. Default: `~/.cache/airbyte-ci/spec-verified`. */
  readonly specCache?: string | false;
  /** Milliseconds `spec` may run per platform before the build fails and its container is removed. Default 120 000. */
  readonly specTimeoutMs?: number;
  /** Registry client the published base image is read from. Default: `registry`, else a client with REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config. */
  readonly baseRegistry?: RegistryClient;
  /** Which installer installs dependencies online: `uv` (pinned, default) or `pip`. Offline builds install with pip from the wheelhouse. */
  readonly installer?: Installer;
  /** Keeps this build's dependency caches (uv, pip) apart from other builds' on the engine: a cold or isolated build. Default: shared. */
  readonly cacheScope?: string;
  /** Replace existing output files and registry tags. Default false: they are refused before building. */
  readonly force?: boolean;
  /** The registry client outputs, SBOMs and the published base are read and written with; registry outputs are checked with it before any build (reachable, pushes accepted, tag unused). Default: a client with REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config, and no preflight check. */
  readonly registry?: RegistryClient;
  /** Write (oci:) or publish (registry:) a CycloneDX SBOM per image and per index. Default: true. */
  readonly sbom?: boolean;
  /** Build from each connector's connector-build.lock and this wheelhouse, with no network in build containers. */
  readonly offline?: { readonly wheelhouse: string };
  /** Publish (registry: output only) the same digest for the same inputs: times from SOURCE_DATE_EPOCH, layers normalised. */
  readonly reproducible?: boolean;
  /** Sign (registry: output only) each index and platform manifest, and attest its provenance and SBOMs, with this key. Default: unsigned. */
  readonly signKey?: SigningKey;
  /** Called when a connector enters a phase (`dir` is the absolute folder); its result arrives through `onDone`. Default: none. */
  readonly onPhase?: (dir: string, connector: string, phase: BuildPhase, detail: string) => void;
  /** Called with each connector's result as soon as it is finished. Default: none. */
  readonly onDone?: (result: ConnectorBuildResult) => void;
}

/** Published base images resolved once per buildConnectors call (one registry read per base image version, not per connector). */
type BaseCache = Map<string, ReturnType<typeof resolvePublishedBase>>;

/** Everything a connector's platform builds need, prepared and checked before any build. */
interface PlannedConnector {
  readonly connector: PreparedConnector;
  readonly recipes: ReadonlyArray<{ platform: Platform; recipe: ImageRecipe; dependencyKey?: string }>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly offline?: OfflinePlan;
  readonly epoch?: number;
}

/**
 * Prepare: metadata, hooks and dependency inputs; the published base (read once per build for all
 * connectors on it); the lock checked against its sources and the base; the offline wheelhouse;
 * then a recipe per platform, each with its install strategy and epoch as inputs (a hook failing on
 * any platform stops before any build).
 */
async function planConnector(dir: string, options: BuildConnectorsOptions, bases: BaseCache): Promise<PlannedConnector> {
  const catalogRef = options.catalogRef !== undefined ? { catalogRef: options.catalogRef } : {};
  const prepared = await prepareConnector(dir, options.catalog, { ...catalogRef, ...(options.hookTimeoutMs !== undefined ? { hookTimeoutMs: options.hookTimeoutMs } : {}) });
  for (const p of options.platforms) prepared.baseImage.rootImage(p);
  const baseKey = `${prepared.baseImage.version}\0${prepared.baseImage.publishedAddress ?? ""}`;
  let pending = bases.get(baseKey);
  if (!pending) {
    const client = options.baseRegistry ?? options.registry;
    pending = resolvePublishedBase(prepared.baseImage, options.platforms, { ...catalogRef, ...(client !== undefined ? { client } : {}) });
    pending.catch(() => bases.delete(baseKey));
    bases.set(baseKey, pending);
  }
  const connector: PreparedConnector = { ...prepared, publishedBase: await pending };
  checkLock(connector.metadata, connector.dependencies, connector.publishedBase as NonNullable<PreparedConnector["publishedBase"]>, options.platforms);
  const offline = options.offline ? prepareOffline(connector, options.platforms, options.offline.wheelhouse) : undefined;
  try {
    const epoch = options.reproducible ? await sourceDateEpoch(connector.metadata.dir) : undefined;
    const recipes = [];
    for (const platform of options.platforms) {
      const install: InstallStrategy = offline ? offline.strategy(platform) : {
            kind: "index",
            ...(options.installer ? { installer: options.installer } : {}),
            ...(options.pipIndex ? { index: options.pipIndex } : {}),
            ...(options.cacheScope !== undefined ? { cacheScope: options.cacheScope } : {}),
          };
      const { recipe, dependencyPrefix } = await pythonConnectorBuild(connector, platform, { install, ...(epoch !== undefined ? { epoch } : {}) });
      const dependencyKey = dependencyPrefix > 0 ? createHash("sha256").update(platform).update(JSON.stringify(recipe.operations.slice(0, dependencyPrefix))).digest("hex") : undefined;
      recipes.push({ platform, recipe, ...(dependencyKey !== undefined ? { dependencyKey } : {}) });
    }
    const secrets = offline ? { ...options.secrets } : { ...options.secrets, ...pipIndexSecrets(options.pipIndex) };
    return { connector, recipes, secrets, ...(offline ? { offline } : {}), ...(epoch !== undefined ? { epoch } : {}) };
  } catch (error) {
    offline?.cleanup();
    throw error;
  }
}

async function buildOne(dir: string, options: BuildConnectorsOptions, ociMany: boolean, bases: BaseCache, gates: DependencyGates): Promise<ConnectorBuildResult> {
  const started = Date.now();
  const result: ConnectorBuildResult = {
    connector: dir.split("/").filter(Boolean).at(-1) ?? dir,
    dir,
    status: "failed",
    durationMs: 0,
    startedAt: new Date(started).toISOString(),
    platforms: [],
  };
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
  let plan: PlannedConnector | undefined;
  // Only an engine whose image refs are content digests (Docker's image ids) can skip a verification.
  const specCache = options.specCache === false || options.engine.contentAddressedRefs !== true ? undefined : new SpecCache(options.specCache);
  try {
    enter("prepare");
    plan = await planConnector(dir, options, bases);
    const { connector, offline } = plan;
    const { metadata } = connector;
    result.connector = metadata.technicalName;
    result.dockerRepository = metadata.dockerRepository;
    result.dockerImageTag = metadata.dockerImageTag;
    result.baseImage = { version: connector.baseImage.version, address: connector.baseImage.publishedAddress };
    const images: BuiltImage[] = [];
    for (const { platform, recipe, dependencyKey } of plan.recipes) {
      log(`building ${platform} on base image ${connector.baseImage.version}${offline ? " offline (no network, locked artifacts)" : ""}`);
      if (offline) await offline.seed(options.engine, platform, log);
      enter("build", platform);
      // Connectors with the same dependency layer (same base, hooks before it and dependency set)
      // build it once: the first builds, the others wait for it and find it in the engine's cache.
      const openGate = await gates.enter(dependencyKey);
      const image = await options.engine.build({
        recipe,
        platform,
        contextDir: metadata.dir,
        ...(offline ? { network: "none" as const } : {}),
        ...(Object.keys(plan.secrets).length > 0 ? { secrets: plan.secrets } : {}),
        onProgress: (line) => log(line),
      }).finally(openGate);
      log(`verifying ${platform}: spec`);
      enter("verify", platform);
      const verification = specCache?.has(options.engine.name, image.ref)
        ? { spec: true, detail: `spec answered before for this very image (${image.ref}): not run again` }
        : await verifySpec(options.engine, image, options.specTimeoutMs);
      if (verification.spec) specCache?.add(options.engine.name, image.ref);
      result.platforms.push({ platform, imageId: image.ref, verification: { spec: verification.spec, detail: verification.detail }, ...(image.cache ? { cache: image.cache } : {}) });
      if (!verification.spec) {
        throw new ConnectorBuildError("VERIFICATION_FAILED", `connector ${metadata.technicalName} (${platform}): ${verification.detail}`);
      }
      images.push(image);
    }
    // Every platform built and verified: only now is anything output.
    enter("output", options.output.kind);
    await writeOutput({ connector, images, result, options, ociMany, log, started, ...(plan.epoch !== undefined ? { epoch: plan.epoch } : {}) });
    result.status = "success";
  } catch (error) {
    result.error = {
      code: AirbyteCiError.isInstance(error) ? error.code : "BUILD_FAILED",
      message: error instanceof Error ? error.message : String(error),
    };
  }
  plan?.offline?.cleanup();
  endPhase();
  result.phasesMs = Object.fromEntries(Object.entries(phasesMs).map(([k, v]) => [k, Math.round(v)]));
  result.durationMs = Date.now() - started;
  options.onDone?.(result);
  return result;
}

/**
 * Builds connectors, each for every platform, verifies each image answers `spec`, then outputs it.
 * A connector with any failing platform outputs nothing; others go on. Connectors build `concurrency`
 * at a time (default: the machine's cores); platforms of one connector one after another.
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
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? machineConcurrency()));
    const limit = createLimiter(concurrency);
    const bases: BaseCache = new Map();
    const gates = new DependencyGates();
    return await Promise.all(dirs.map((dir) => limit(() => buildOne(resolve(dir), options, ociMany, bases, gates))));
  } finally {
    release();
  }
}
