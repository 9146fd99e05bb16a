// `pnpm bench`: build-performance benchmark of the common build against the seed's Dockerfile
// variants, on the local Docker engine. Not a test: it measures, prints a table, evaluates targets
// and writes JSON under <repo>/bench/results/. Settings: see bench/lib/config.ts (BENCH_* variables).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import { loadCatalog } from "../src/base-image/catalog-source.ts";
import { buildConnectors, type ConnectorBuildResult } from "../src/build/build-connectors.ts";
import type { BuildOutput } from "../src/build/output.ts";
import { PIP_INDEX_SECRETS } from "../src/connector/pip-index.ts";
import { prepareConnector, pythonConnectorRecipe } from "../src/connector/python-build.ts";
import { DaggerEngine } from "../src/engines/dagger/dagger-engine.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { renderDockerfile } from "../src/dockerfile/render.ts";
import type { BuildRequest, BuiltImage, Engine, EngineName, ImageConfig, PublishOptions, PublishResult, ResolveImageOptions, ResolvedImage, RunResult } from "../src/engines/engine.ts";
import { writeFileAtomic } from "../src/shared/fs-atomic.ts";
import { writeAnalyzeTree, type TreeExpectation } from "./lib/analyze-tree.ts";
import { ConfigError, readConfig, SECTIONS, type BenchConfig } from "./lib/config.ts";
import {
  SYNTHETIC_CONNECTOR,
  SYNTHETIC_PACKAGE_DIR,
  SYNTHETIC_REPOSITORY,
  SYNTHETIC_VERSION_TAG,
  applyCodeChange,
  applyDependencyChange,
  writeFleetConnector,
  writeSyntheticConnector,
} from "./lib/connectors.ts";
import { BenchError, DOCKER, dockerBuild, dockerServerVersion, imageSize, pruneBuildCache, removeImages, runSpec, vertexTimings, type VertexTiming } from "./lib/docker.ts";
import { startPackageIndex, type PackageIndex } from "./lib/index-server.ts";
import { peerTargets, renderPeerReport, runPeerComparison, PEER_VARIANT, type PeerRun } from "./lib/peer.ts";
import { killTrackedProcesses, run, tail } from "./lib/proc.ts";
import { megabytes, ratio, seconds, summarize, type Summary } from "./lib/stats.ts";
import { variantDockerfile, type VariantId } from "./lib/variants.ts";
import { renderSupplyReport, runSupply, supplyTargets, type SupplyResults } from "./lib/supply.ts";
import { generateSyntheticWheels, type SyntheticWheels } from "./lib/wheels.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = resolve(BENCH_DIR, "..");
const REPO_ROOT = resolve(PACKAGE_DIR, "../..");
const PLATFORM: Platform = "linux/amd64";

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Cleanup: temporary folder, index server, images, child processes.

const cleanups: Array<{ what: string; fn: () => Promise<void> | void }> = [];
let cleaningUp = false;

async function runCleanups(): Promise<void> {
  if (cleaningUp) return;
  cleaningUp = true;
  while (cleanups.length > 0) {
    const c = cleanups.pop();
    if (!c) break;
    try {
      await c.fn();
    } catch (error) {
      log(`cleanup (${c.what}) failed: ${(error as Error).message}`);
    }
  }
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping (processes started by the benchmark: ${killTrackedProcesses()} signalled), cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// An engine wrapper that times `build` alone (buildConnectors also loads hooks, runs `spec` and tags).

class TimedEngine implements Engine {
  readonly name: EngineName;
  /** Build wall time by image reference. */
  readonly buildMs = new Map<string, number>();
  constructor(private readonly inner: Engine) {
    this.name = inner.name;
  }
  async build(request: BuildRequest): Promise<BuiltImage> {
    const started = performance.now();
    const image = await this.inner.build(request);
    this.buildMs.set(image.ref, performance.now() - started);
    return image;
  }
  resolveImage(reference: string, options?: ResolveImageOptions): Promise<ResolvedImage> {
    return this.inner.resolveImage(reference, options);
  }
  run(image: BuiltImage, argv: readonly string[], options?: { useEntrypoint?: boolean }): Promise<RunResult> {
    return this.inner.run(image, argv, options);
  }
  inspect(image: BuiltImage): Promise<ImageConfig> {
    return this.inner.inspect(image);
  }
  exportOci(images: readonly BuiltImage[], file: string): Promise<void> {
    return this.inner.exportOci(images, file);
  }
  loadIntoDocker(image: BuiltImage, tag: string): Promise<string> {
    return this.inner.loadIntoDocker(image, tag);
  }
  publish(images: readonly BuiltImage[], reference: string, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(images, reference, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic connector: four ways, three phases.

type WayId = "variant-1" | "variant-2" | "variant-3" | "common";
interface Way {
  readonly id: WayId;
  readonly label: string;
  readonly variant?: VariantId;
}
const WAYS: readonly Way[] = [
  { id: "variant-1", label: "seed variant 1", variant: 1 },
  { id: "variant-2", label: "seed variant 2", variant: 2 },
  { id: "variant-3", label: "seed variant 3", variant: 3 },
  { id: "common", label: "common build" },
];
type Phase = "cold" | "code" | "deps";

interface BuildMeasurement {
  /** The image build alone: `docker build` for a variant, the engine's build for the common build. */
  buildMs: number;
  /** What a developer waits for: build + `spec` check (+ tag): for the common build, the whole buildConnectors call. */
  totalMs: number;
  imageId: string;
  steps: number;
  cachedSteps: number;
  /** Wheels fetched from the index during the build. */
  downloads: number;
  /** Dependencies the image's `spec` imported. */
  dependenciesImported: number;
  /** BuildKit vertices that took 0.1 s or more (steps, context transfer, export). */
  slowVertices: VertexTiming[];
  /** 1-minute load average when the build started: other work on the machine. */
  load1: number;
}

interface WayRepetition {
  repetition: number;
  order: number;
  cold: BuildMeasurement;
  /** One rebuild per code-only edit (BENCH_CODE_EDITS), in order. */
  code: BuildMeasurement[];
  deps: BuildMeasurement;
  sizeBytes: number;
  /** Earlier attempts thrown away because the BuildKit cache vanished between builds. */
  discarded: Array<{ attempt: number; reason: string; buildMs: { cold: number; code: number[]; deps: number } }>;
}

interface WayResult {
  id: WayId;
  label: string;
  dockerfile: string;
  repetitions: WayRepetition[];
  buildMs: Record<Phase, Summary>;
  totalMs: Record<Phase, Summary>;
  sizeBytes: Summary;
}

interface SyntheticContext {
  readonly config: BenchConfig;
  readonly work: string;
  readonly index: PackageIndex;
  readonly wheels: SyntheticWheels;
  readonly catalog: BaseImageCatalog;
  readonly baseImage: string;
  readonly rootImage: string;
  readonly engine: TimedEngine;
  /** Images each way built, removed before its next cold build. */
  readonly images: Map<string, string[]>;
}

function dependencyCount(message: Record<string, unknown>): number {
  const spec = message.spec as { connectionSpecification?: Record<string, unknown> } | undefined;
  const n = spec?.connectionSpecification?.["x-dependencies"];
  return typeof n === "number" ? n : -1;
}

function firstFailure(results: readonly ConnectorBuildResult[]): ConnectorBuildResult | undefined {
  return results.find((r) => r.status !== "success");
}

async function buildWay(ctx: SyntheticContext, way: Way, dir: string, expectedDependencies: number): Promise<BuildMeasurement> {
  const downloadsBefore = ctx.index.counters.files;
  const load1 = loadavg()[0] ?? Number.NaN;
  let m: BuildMeasurement;
  if (way.variant !== undefined) {
    const started = performance.now();
    const built = await dockerBuild({
      contextDir: dir,
      dockerfile: join(dir, "Dockerfile"),
      tag: `${SYNTHETIC_REPOSITORY}:seed-${way.id}`,
      buildArgs: { PIP_INDEX_URL: ctx.index.url, PIP_TRUSTED_HOST: ctx.index.host },
      workDir: ctx.work,
    });
    const spec = await runSpec(built.imageId);
    m = {
      buildMs: built.ms,
      totalMs: performance.now() - started,
      imageId: built.imageId,
      steps: built.steps,
      cachedSteps: built.cachedSteps,
      downloads: 0,
      dependenciesImported: dependencyCount(spec.message),
      slowVertices: built.vertices.filter((v) => v.seconds >= 0.1),
      load1,
    };
  } else {
    const lines: string[] = [];
    const started = performance.now();
    const results = await buildConnectors([dir], {
      onProgress: (_connector, line) => lines.push(line),
      engine: ctx.engine,
      catalog: ctx.catalog,
      platforms: [PLATFORM],
      output: { kind: "docker" },
      // The loopback index is plain http: its host becomes PIP_TRUSTED_HOST, so pip keeps its HTTP
      // cache (in the cache mount) as it does for https PyPI.
      pipIndex: { indexUrl: ctx.index.url },
    });
    const totalMs = performance.now() - started;
    const failed = firstFailure(results);
    if (failed || !results[0]) throw new BenchError(`common build of ${dir} failed: ${failed?.error?.code ?? "?"}: ${failed?.error?.message ?? "no result"}`);
    const platform = results[0].platforms[0];
    if (!platform) throw new BenchError(`common build of ${dir} returned no image`);
    const buildMs = ctx.engine.buildMs.get(platform.imageId);
    if (buildMs === undefined) throw new BenchError(`no build time recorded for ${platform.imageId}`);
    const steps = platform.cache?.steps ?? [];
    const spec = await runSpec(platform.imageId); // not timed: buildConnectors already ran spec
    m = {
      buildMs,
      totalMs,
      imageId: platform.imageId,
      steps: steps.length,
      cachedSteps: steps.filter((s) => s.cached).length,
      downloads: 0,
      dependenciesImported: dependencyCount(spec.message),
      slowVertices: vertexTimings(lines).filter((v) => v.seconds >= 0.1),
      load1,
    };
  }
  m.downloads = ctx.index.counters.files - downloadsBefore;
  const images = ctx.images.get(way.id) ?? [];
  images.push(m.imageId);
  ctx.images.set(way.id, images);
  if (m.dependenciesImported !== expectedDependencies) {
    throw new BenchError(`${way.label}: the image's spec imported ${m.dependenciesImported} dependencies, expected ${expectedDependencies}: the build did not install what setup.py declares`);
  }
  return m;
}

function wayTags(way: Way): string[] {
  return way.variant !== undefined ? [`${SYNTHETIC_REPOSITORY}:seed-${way.id}`] : [`${SYNTHETIC_REPOSITORY}:${SYNTHETIC_VERSION_TAG}`];
}

/** Times one way: cold build, code-only rebuild, dependency-change rebuild, image size. */
async function measureWayOnce(ctx: SyntheticContext, way: Way, repetition: number, order: number, attempt: number): Promise<WayRepetition> {
  const parent = join(ctx.work, "synthetic", `rep-${repetition}`, `${way.id}-${attempt}`);
  mkdirSync(parent, { recursive: true });
  const requirements = ctx.wheels.packages.map((p) => `${p.project}==${p.version}`);
  const dir = writeSyntheticConnector(parent, { baseImage: ctx.baseImage, requirements });
  if (way.variant !== undefined) {
    writeFileSync(join(dir, "Dockerfile"), variantDockerfile(way.variant, { rootImage: ctx.rootImage, technicalName: SYNTHETIC_CONNECTOR, packageDir: SYNTHETIC_PACKAGE_DIR, version: SYNTHETIC_VERSION_TAG }));
  }
  // Cold: no image of this way, no BuildKit cache at all (cache mounts included). The root image stays.
  await removeImages([...(ctx.images.get(way.id) ?? []), ...wayTags(way)]);
  ctx.images.set(way.id, []);
  await pruneBuildCache();
  const n = ctx.wheels.packages.length;
  const cold = await buildWay(ctx, way, dir, n);
  const sizeBytes = await imageSize(cold.imageId);
  const code: BuildMeasurement[] = [];
  for (let edit = 0; edit < ctx.config.codeEdits; edit++) {
    applyCodeChange(dir, SYNTHETIC_PACKAGE_DIR, `rep-${repetition}-${way.id}-${attempt}-${edit}`);
    code.push(await buildWay(ctx, way, dir, n));
  }
  applyDependencyChange(dir, [...requirements, `${ctx.wheels.extra.project}==${ctx.wheels.extra.version}`]);
  const deps = await buildWay(ctx, way, dir, n + 1);
  log(
    `  ${way.label.padEnd(15)} cold ${seconds(cold.buildMs)}, code-only ${code.map((c) => seconds(c.buildMs)).join("/")} (${code[0]?.cachedSteps ?? 0}/${code[0]?.steps ?? 0} steps cached), ` +
      `dependency change ${seconds(deps.buildMs)} (${deps.cachedSteps}/${deps.steps} steps cached, ${deps.downloads} wheels fetched), ${megabytes(sizeBytes)}`,
  );
  return { repetition, order, cold, code, deps, sizeBytes, discarded: [] };
}

/** Attempts per measurement when the BuildKit cache is found lost between builds. */
const MAX_ATTEMPTS = 3;

/**
 * Every way's first build step (a RUN on the root image) precedes anything the changes touch, so a
 * rebuild with no cached step means the cache vanished between builds: another process pruned it
 * or removed the root image. Such a measurement says nothing about the recipe: it is repeated.
 */
async function measureWay(ctx: SyntheticContext, way: Way, repetition: number, order: number): Promise<WayRepetition> {
  const discarded: WayRepetition["discarded"] = [];
  for (let attempt = 1; ; attempt++) {
    const r = await measureWayOnce(ctx, way, repetition, order, attempt);
    const lost = [...(r.code.some((c) => c.cachedSteps === 0) ? ["code-only"] : []), ...(r.deps.cachedSteps === 0 ? ["dependency"] : [])];
    if (lost.length === 0 || attempt >= MAX_ATTEMPTS) {
      r.discarded = discarded;
      if (lost.length > 0) log(`  WARNING ${way.label}: BuildKit cache still lost in ${lost.join(", ")} after ${attempt} attempts; kept as measured`);
      return r;
    }
    log(`  ${way.label}: no step cached in the ${lost.join(" and ")} rebuild (cache removed by another process?): measurement repeated`);
    discarded.push({ attempt, reason: `no cached step in ${lost.join(", ")} rebuild`, buildMs: { cold: r.cold.buildMs, code: r.code.map((c) => c.buildMs), deps: r.deps.buildMs } });
  }
}

async function commonDockerfile(ctx: SyntheticContext): Promise<string> {
  const dir = writeSyntheticConnector(join(ctx.work, "synthetic", "render"), { baseImage: ctx.baseImage, requirements: ctx.wheels.packages.map((p) => `${p.project}==${p.version}`) });
  const prepared = await prepareConnector(dir, ctx.catalog);
  return renderDockerfile(await pythonConnectorRecipe(prepared, PLATFORM)).dockerfile;
}

async function runSynthetic(ctx: SyntheticContext): Promise<{ ways: WayResult[] }> {
  const byWay = new Map<WayId, WayRepetition[]>(WAYS.map((w) => [w.id, []]));
  for (let rep = 0; rep < ctx.config.repetitions; rep++) {
    // Rotate the order each repetition so drift (page cache, other load) does not favour one way.
    const order = WAYS.map((_, i) => WAYS[(i + rep) % WAYS.length] as Way);
    log(`synthetic connector, repetition ${rep + 1}/${ctx.config.repetitions} (order: ${order.map((w) => w.id).join(", ")})`);
    for (const [i, way] of order.entries()) byWay.get(way.id)?.push(await measureWay(ctx, way, rep, i));
  }
  const common = await commonDockerfile(ctx);
  const ways = WAYS.map((way): WayResult => {
    const reps = byWay.get(way.id) ?? [];
    const phase = (key: "buildMs" | "totalMs"): Record<Phase, Summary> => ({
      cold: summarize(reps.map((r) => r.cold[key])),
      code: summarize(reps.flatMap((r) => r.code.map((c) => c[key]))),
      deps: summarize(reps.map((r) => r.deps[key])),
    });
    return {
      id: way.id,
      label: way.label,
      dockerfile:
        way.variant !== undefined
          ? variantDockerfile(way.variant, { rootImage: ctx.rootImage, technicalName: SYNTHETIC_CONNECTOR, packageDir: SYNTHETIC_PACKAGE_DIR, version: SYNTHETIC_VERSION_TAG })
          : common,
      repetitions: reps,
      buildMs: phase("buildMs"),
      totalMs: phase("totalMs"),
      sizeBytes: summarize(reps.map((r) => r.sizeBytes)),
    };
  });
  return { ways };
}

// ---------------------------------------------------------------------------------------------
// Fleet: N copies of a small connector on one base, built together.

interface FleetRun {
  n: number;
  repetitions: Array<{
    totalMs: number;
    perConnectorMs: number;
    connectorMs: number[];
    engineBuildMs: number[];
    /** Seconds BuildKit reported, summed over the fleet's connectors, by kind of vertex. */
    vertexSeconds: Record<string, number>;
  }>;
  totalMs: Summary;
  perConnectorMs: Summary;
}

/** Sums BuildKit vertex times of a fleet by kind: where N connectors spend their build time. */
function fleetVertexSeconds(perConnector: readonly string[][]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const lines of perConnector) {
    for (const v of vertexTimings(lines)) {
      if (v.cached || v.seconds === 0) continue;
      const kind = /"pip","install"/.test(v.title) && !/pip==/.test(v.title)
        ? "connector pip install"
        : /RUN /.test(v.title)
          ? "base image RUN steps"
          : /^exporting/.test(v.title)
            ? "image export"
            : /COPY|WORKDIR/.test(v.title)
              ? "COPY/WORKDIR"
              : "context, FROM and other";
      sums[kind] = Math.round(((sums[kind] ?? 0) + v.seconds) * 10) / 10;
    }
  }
  return sums;
}

async function runFleet(config: BenchConfig, work: string, catalog: BaseImageCatalog, baseImage: string, fleetImages: string[]): Promise<FleetRun[]> {
  const largest = Math.max(...config.fleetSizes);
  const parent = join(work, "fleet");
  mkdirSync(parent, { recursive: true });
  const example = join(REPO_ROOT, "examples", "source-hello");
  const dirs = Array.from({ length: largest }, (_, i) => writeFleetConnector(parent, example, `source-fleet-${String(i + 1).padStart(3, "0")}`, baseImage));
  const output: BuildOutput = config.fleetOutput === "docker" ? { kind: "docker" } : { kind: "none" };
  const tags = dirs.map((d) => `airbyte-bench/${d.split("/").at(-1) as string}:0.1.0`);
  const runs: FleetRun[] = config.fleetSizes.map((n) => ({ n, repetitions: [], totalMs: summarize([]), perConnectorMs: summarize([]) }));
  for (let rep = 0; rep < config.repetitions; rep++) {
    for (const fleetRun of runs) {
      const { n } = fleetRun;
      await removeImages([...fleetImages.splice(0), ...(config.fleetOutput === "docker" ? tags : [])]);
      await pruneBuildCache();
      const engine = new TimedEngine(new DockerEngine());
      const lines = new Map<string, string[]>();
      const onProgress = (connector: string, line: string) => {
        const list = lines.get(connector) ?? [];
        list.push(line);
        lines.set(connector, list);
      };
      const started = performance.now();
      const results = await buildConnectors(dirs.slice(0, n), { engine, catalog, platforms: [PLATFORM], output, concurrency: config.fleetConcurrency, onProgress });
      const totalMs = performance.now() - started;
      fleetImages.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
      const failed = firstFailure(results);
      if (failed) throw new BenchError(`fleet of ${n}: ${failed.connector} failed: ${failed.error?.code ?? "?"}: ${failed.error?.message ?? ""}`);
      fleetRun.repetitions.push({
        totalMs,
        perConnectorMs: totalMs / n,
        connectorMs: results.map((r) => r.durationMs),
        engineBuildMs: [...engine.buildMs.values()],
        vertexSeconds: fleetVertexSeconds([...lines.values()]),
      });
      const vs = fleetRun.repetitions.at(-1)?.vertexSeconds ?? {};
      log(
        `  fleet of ${String(n).padStart(2)} (repetition ${rep + 1}/${config.repetitions}): ${seconds(totalMs)}, ${seconds(totalMs / n)} per connector; ` +
          `BuildKit time summed over connectors: ${Object.entries(vs).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}`,
      );
    }
  }
  for (const r of runs) {
    r.totalMs = summarize(r.repetitions.map((x) => x.totalMs));
    r.perConnectorMs = summarize(r.repetitions.map((x) => x.perConnectorMs));
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Docker and Dagger side by side: the same common build of the synthetic connector (cold, code-only,
// dependency change) and a fleet, on each engine.

interface EngineSide {
  engine: EngineName;
  /** Why the engine could not be measured; absent when it was. */
  unavailable?: string;
  /** Engine build time (Engine.build), by phase; code-only: one per edit. */
  buildMs: { cold: number; code: number[]; deps: number };
  /** The whole buildConnectors call (build + spec check), by phase. */
  totalMs: { cold: number; code: number[]; deps: number };
  fleet: { n: number; totalMs: number; perConnectorMs: number };
}

/** Makes a connector's dependency manifest unique, so that no engine holds a cached install of it. */
function uniqueManifest(dir: string, nonce: string): void {
  const setup = join(dir, "setup.py");
  writeFileSync(setup, `${readFileSync(setup, "utf8")}\n# bench nonce ${nonce}\n`);
}

/** The Dagger engine from the environment (scripts/test.sh's names or the SDK's); undefined with why not. */
function daggerEnvironment(): { ok: true } | { ok: false; why: string } {
  const host = process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST ?? process.env.AIRBYTE_CI_DAGGER_RUNNER_HOST;
  const bin = process.env._EXPERIMENTAL_DAGGER_CLI_BIN ?? process.env.AIRBYTE_CI_DAGGER_CLI_BIN;
  if (!host || !bin || !existsSync(bin)) return { ok: false, why: 'no Dagger engine in the environment: run eval "$(bash scripts/env/dagger-engine.sh)" first' };
  process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST = host;
  process.env._EXPERIMENTAL_DAGGER_CLI_BIN = bin;
  return { ok: true };
}

async function measureEngine(name: EngineName, config: BenchConfig, work: string, catalog: BaseImageCatalog, baseImage: string, index: PackageIndex, wheels: SyntheticWheels): Promise<EngineSide> {
  const engine = new TimedEngine(name === "docker" ? new DockerEngine() : new DaggerEngine());
  const nonce = `${name}-${Date.now().toString(36)}-${process.pid}`;
  const side: EngineSide = { engine: name, buildMs: { cold: 0, code: [], deps: 0 }, totalMs: { cold: 0, code: [], deps: 0 }, fleet: { n: config.enginesFleet, totalMs: 0, perConnectorMs: 0 } };
  try {
    const requirements = wheels.packages.map((p) => `${p.project}==${p.version}`);
    const dir = writeSyntheticConnector(join(work, "engines", name), { baseImage, requirements });
    uniqueManifest(dir, nonce);
    const once = async (): Promise<{ build: number; total: number }> => {
      const started = performance.now();
      const results = await buildConnectors([dir], { engine, catalog, platforms: [PLATFORM], output: { kind: "none" }, pipIndex: { indexUrl: index.url } });
      const total = performance.now() - started;
      const failed = firstFailure(results);
      const platform = results[0]?.platforms[0];
      if (failed || !platform) throw new BenchError(`${name}: common build of ${dir} failed: ${failed?.error?.code ?? "?"}: ${failed?.error?.message ?? "no result"}`);
      return { build: engine.buildMs.get(platform.imageId) ?? Number.NaN, total };
    };
    const cold = await once();
    side.buildMs.cold = cold.build;
    side.totalMs.cold = cold.total;
    for (let edit = 0; edit < config.codeEdits; edit++) {
      applyCodeChange(dir, SYNTHETIC_PACKAGE_DIR, `${nonce}-${edit}`);
      const code = await once();
      side.buildMs.code.push(code.build);
      side.totalMs.code.push(code.total);
    }
    applyDependencyChange(dir, [...requirements, `${wheels.extra.project}==${wheels.extra.version}`]);
    uniqueManifest(dir, nonce);
    const deps = await once();
    side.buildMs.deps = deps.build;
    side.totalMs.deps = deps.total;

    const parent = join(work, "engines", `${name}-fleet`);
    mkdirSync(parent, { recursive: true });
    const dirs = Array.from({ length: config.enginesFleet }, (_, i) => writeFleetConnector(parent, join(REPO_ROOT, "examples", "source-hello"), `source-fleet-${String(i + 1).padStart(3, "0")}`, baseImage));
    for (const d of dirs) uniqueManifest(d, nonce);
    const started = performance.now();
    const results = await buildConnectors(dirs, { engine, catalog, platforms: [PLATFORM], output: { kind: "none" }, concurrency: config.fleetConcurrency });
    side.fleet.totalMs = performance.now() - started;
    side.fleet.perConnectorMs = side.fleet.totalMs / dirs.length;
    const failed = firstFailure(results);
    if (failed) throw new BenchError(`${name}: fleet: ${failed.connector} failed: ${failed.error?.code ?? "?"}: ${failed.error?.message ?? ""}`);
    log(
      `  ${name.padEnd(6)} cold ${seconds(side.buildMs.cold)}, code-only ${side.buildMs.code.map(seconds).join("/")}, dependency change ${seconds(side.buildMs.deps)}, ` +
        `fleet of ${dirs.length} ${seconds(side.fleet.totalMs)} (${seconds(side.fleet.perConnectorMs)} per connector)`,
    );
    return side;
  } finally {
    await engine.close();
  }
}

async function runEngines(config: BenchConfig, work: string, catalog: BaseImageCatalog, baseImage: string, index: PackageIndex, wheels: SyntheticWheels): Promise<EngineSide[]> {
  const sides: EngineSide[] = [await measureEngine("docker", config, work, catalog, baseImage, index, wheels)];
  const dagger = daggerEnvironment();
  if (dagger.ok) sides.push(await measureEngine("dagger", config, work, catalog, baseImage, index, wheels));
  else {
    log(`  dagger: not measured: ${dagger.why}`);
    sides.push({ engine: "dagger", unavailable: dagger.why, buildMs: { cold: 0, code: [], deps: 0 }, totalMs: { cold: 0, code: [], deps: 0 }, fleet: { n: 0, totalMs: 0, perConnectorMs: 0 } });
  }
  return sides;
}

// ---------------------------------------------------------------------------------------------
// analyzeRepository on a generated tree, in fresh child processes.

interface AnalyzeChildOutput {
  ms: number;
  warmMs: number;
  maxRssKiB: number;
  maxRssBeforeKiB: number;
  rssBeforeBytes: number;
  sampledPeakRssBytes: number;
  scanned: number;
  selected: number;
  variants: Array<{ id: string; count: number; example: string; baseImages: string[] }>;
  withoutDockerfile: number;
  unreadable: number;
  problems: number;
  firstProblems: unknown[];
}

interface AnalyzeResult {
  connectors: number;
  files: number;
  generateMs: number;
  expected: TreeExpectation;
  check: { ok: boolean; detail: string };
  repetitions: AnalyzeChildOutput[];
  ms: Summary;
  warmMs: Summary;
  peakRssBytes: Summary;
  peakRssIncreaseBytes: Summary;
}

function checkAnalysis(out: AnalyzeChildOutput, expected: TreeExpectation): { ok: boolean; detail: string } {
  const wantCounts = Object.values(expected.byTemplate).sort((a, b) => a - b);
  const gotCounts = out.variants.map((v) => v.count).sort((a, b) => a - b);
  const problems: string[] = [];
  if (out.scanned !== expected.connectors) problems.push(`scanned ${out.scanned}, expected ${expected.connectors}`);
  if (out.selected !== expected.selected) problems.push(`selected ${out.selected}, expected ${expected.selected}`);
  if (JSON.stringify(gotCounts) !== JSON.stringify(wantCounts)) problems.push(`variant sizes ${JSON.stringify(gotCounts)}, expected ${JSON.stringify(wantCounts)}`);
  if (out.withoutDockerfile !== expected.withoutDockerfile) problems.push(`${out.withoutDockerfile} without Dockerfile, expected ${expected.withoutDockerfile}`);
  if (out.unreadable !== 0) problems.push(`${out.unreadable} unreadable Dockerfiles, expected 0`);
  return problems.length === 0
    ? { ok: true, detail: `${out.scanned} scanned, ${out.selected} selected, ${out.variants.length} variants, ${out.withoutDockerfile} without Dockerfile: as generated` }
    : { ok: false, detail: problems.join("; ") };
}

async function runAnalyze(config: BenchConfig, work: string): Promise<AnalyzeResult> {
  const root = join(work, "analyze-tree");
  const genStarted = performance.now();
  const expected = writeAnalyzeTree(root, config.analyzeConnectors);
  const generateMs = performance.now() - genStarted;
  log(`analyze: generated ${expected.connectors} connectors (${expected.files} files) in ${seconds(generateMs)}`);
  const repetitions: AnalyzeChildOutput[] = [];
  const child = join(BENCH_DIR, "analyze-child.ts");
  for (let rep = 0; rep < config.repetitions; rep++) {
    const result = await run(process.execPath, ["--import", "tsx", child, root], { cwd: PACKAGE_DIR });
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    if (result.exitCode !== 0 || !line.startsWith("{")) {
      throw new BenchError(`analyze child process exited ${result.exitCode}:\n${tail(`${result.stdout}\n${result.stderr}`, 15)}`);
    }
    const out = JSON.parse(line) as AnalyzeChildOutput;
    repetitions.push(out);
    log(`  analyze (repetition ${rep + 1}/${config.repetitions}): ${seconds(out.ms)} (second call ${seconds(out.warmMs)}), peak RSS ${megabytes(out.maxRssKiB * 1024)}`);
  }
  const first = repetitions[0];
  const check = first ? checkAnalysis(first, expected) : { ok: false, detail: "no repetition" };
  if (!check.ok) log(`analyze: WARNING the report differs from what was generated: ${check.detail}`);
  return {
    connectors: expected.connectors,
    files: expected.files,
    generateMs,
    expected,
    check,
    repetitions,
    ms: summarize(repetitions.map((r) => r.ms)),
    warmMs: summarize(repetitions.map((r) => r.warmMs)),
    peakRssBytes: summarize(repetitions.map((r) => r.maxRssKiB * 1024)),
    peakRssIncreaseBytes: summarize(repetitions.map((r) => (r.maxRssKiB - r.maxRssBeforeKiB) * 1024)),
  };
}

// ---------------------------------------------------------------------------------------------
// Targets and report.

interface Target {
  id: string;
  description: string;
  status: "PASS" | "MISS" | "SKIP";
  figures: string;
}

function bestVariant(ways: readonly WayResult[], pick: (w: WayResult) => number): WayResult | undefined {
  let best: WayResult | undefined;
  for (const w of ways) if (w.id !== "common" && (best === undefined || pick(w) < pick(best))) best = w;
  return best;
}

function spread(s: Summary): string {
  return s.values.length > 1 ? ` [${seconds(s.min)}–${seconds(s.max)}]` : "";
}

/** Whether two sets of measurements' interquartile ranges overlap: then the medians' order is within run-to-run noise. */
function overlapNote(a: Summary, b: Summary): string {
  if (a.values.length < 2 || b.values.length < 2) return "";
  return a.p25 <= b.p75 && b.p25 <= a.p75
    ? "; interquartile ranges overlap: the difference is within run-to-run noise"
    : "; interquartile ranges do not overlap";
}

function evaluateTargets(synthetic: { ways: WayResult[] } | undefined, fleet: FleetRun[] | undefined, analyze: AnalyzeResult | undefined): Target[] {
  const targets: Target[] = [];
  const common = synthetic?.ways.find((w) => w.id === "common");
  if (synthetic && common) {
    const cold = common.buildMs.cold.median;
    const code = common.buildMs.code.median;
    const deps = common.buildMs.deps.median;
    const bestCode = bestVariant(synthetic.ways, (w) => w.buildMs.code.median) as WayResult;
    const bestDeps = bestVariant(synthetic.ways, (w) => w.buildMs.deps.median) as WayResult;
    const share = code / cold;
    targets.push({
      id: "code-only-rebuild",
      description: "code-only rebuild ≤ 5 % of the common build's cold build, and no slower than the best variant",
      status: share <= 0.05 && code <= bestCode.buildMs.code.median ? "PASS" : "MISS",
      figures:
        `common ${seconds(code)}${spread(common.buildMs.code)} = ${(share * 100).toFixed(1)} % of its cold build ${seconds(cold)} (limit 5 % = ${seconds(cold * 0.05)}); ` +
        `best variant: ${bestCode.label} ${seconds(bestCode.buildMs.code.median)}${spread(bestCode.buildMs.code)} (${ratio(code, bestCode.buildMs.code.median)})${overlapNote(common.buildMs.code, bestCode.buildMs.code)}`,
    });
    targets.push({
      id: "dependency-rebuild",
      description: "dependency-change rebuild no slower than the best variant",
      status: deps <= bestDeps.buildMs.deps.median ? "PASS" : "MISS",
      figures: `common ${seconds(deps)}${spread(common.buildMs.deps)}; best variant: ${bestDeps.label} ${seconds(bestDeps.buildMs.deps.median)}${spread(bestDeps.buildMs.deps)} (${ratio(deps, bestDeps.buildMs.deps.median)})${overlapNote(common.buildMs.deps, bestDeps.buildMs.deps)}`,
    });
  } else {
    targets.push({ id: "code-only-rebuild", description: "code-only rebuild ≤ 5 % of cold and no slower than the best variant", status: "SKIP", figures: "synthetic section not run" });
    targets.push({ id: "dependency-rebuild", description: "dependency-change rebuild no slower than the best variant", status: "SKIP", figures: "synthetic section not run" });
  }
  const one = fleet?.find((f) => f.n === 1);
  const twenty = fleet?.find((f) => f.n === 20);
  if (one && twenty) {
    targets.push({
      id: "fleet-20",
      description: "fleet of 20 ≤ 3× one cold build",
      status: twenty.totalMs.median <= 3 * one.totalMs.median ? "PASS" : "MISS",
      figures:
        `fleet of 20 ${seconds(twenty.totalMs.median)}${spread(twenty.totalMs)} = ${ratio(twenty.totalMs.median, one.totalMs.median)} one cold build of the same connector (fleet of 1: ${seconds(one.totalMs.median)}${spread(one.totalMs)}); limit ${seconds(3 * one.totalMs.median)}` +
        (common ? `; for scale: ${ratio(twenty.totalMs.median, common.totalMs.cold.median)} the synthetic connector's cold common build (${seconds(common.totalMs.cold.median)} end to end)` : ""),
    });
  } else {
    targets.push({ id: "fleet-20", description: "fleet of 20 ≤ 3× one cold build", status: "SKIP", figures: "fleet sizes 1 and 20 not both measured" });
  }
  if (analyze) {
    targets.push({
      id: "analyze-2000",
      description: `analyze of ${analyze.connectors.toLocaleString("en")} connectors < 2 s`,
      status: analyze.ms.median < 2000 && analyze.connectors >= 2000 && analyze.check.ok ? "PASS" : "MISS",
      figures: `${seconds(analyze.ms.median)}${spread(analyze.ms)} in a fresh process, peak RSS ${megabytes(analyze.peakRssBytes.median)}${analyze.check.ok ? "" : `; report check failed: ${analyze.check.detail}`}`,
    });
  } else {
    targets.push({ id: "analyze-2000", description: "analyze of 2,000 connectors < 2 s", status: "SKIP", figures: "analyze section not run" });
  }
  return targets;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
    return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  }).join("\n");
}

function printReport(config: BenchConfig, results: Results): void {
  const out: string[] = [];
  const s = results.synthetic;
  if (s) {
    const ways = s.ways;
    const best = (pick: (w: WayResult) => number) => pick(bestVariant(ways, pick) as WayResult);
    const bestCold = best((w) => w.buildMs.cold.median);
    const bestCode = best((w) => w.buildMs.code.median);
    const bestDeps = best((w) => w.buildMs.deps.median);
    const bestSize = best((w) => w.sizeBytes.median);
    const d = s.dependencies;
    out.push(
      "",
      `Synthetic connector: ${d.count} dependencies from a loopback index (${megabytes(d.wheelBytes)} of wheels, ${d.files} files / ${megabytes(d.installedBytes)} installed), ` +
        `median of ${config.repetitions} (code-only: of ${config.repetitions} × ${config.codeEdits} edits); build time (docker build / engine build), ratio to the best seed variant`,
      table([
        ["way", "cold build", "", "code-only rebuild", "", "dependency rebuild", "", "image size", "", "over root"],
        ...ways.map((w) => [
          w.label,
          seconds(w.buildMs.cold.median),
          ratio(w.buildMs.cold.median, bestCold),
          seconds(w.buildMs.code.median),
          ratio(w.buildMs.code.median, bestCode),
          seconds(w.buildMs.deps.median),
          ratio(w.buildMs.deps.median, bestDeps),
          megabytes(w.sizeBytes.median),
          ratio(w.sizeBytes.median, bestSize),
          `+${megabytes(w.sizeBytes.median - s.rootImageBytes)}`,
        ]),
      ]),
      "",
      "Same builds, end to end (build + spec check + tag; the common build's whole buildConnectors call):",
      table([
        ["way", "cold", "code-only", "dependency", "wheels fetched (cold/code/deps, first repetition)"],
        ...ways.map((w) => {
          const r = w.repetitions[0];
          return [w.label, seconds(w.totalMs.cold.median), seconds(w.totalMs.code.median), seconds(w.totalMs.deps.median), r ? `${r.cold.downloads}/${r.code[0]?.downloads ?? "–"}/${r.deps.downloads}` : "–"];
        }),
      ]),
    );
  }
  if (results.fleet) {
    const one = results.fleet.runs.find((f) => f.n === 1);
    out.push(
      "",
      `Fleet: copies of examples/source-hello on one base, buildConnectors concurrency ${config.fleetConcurrency}, output ${config.fleetOutput}, cold BuildKit cache each time, median of ${config.repetitions}`,
      table([
        ["connectors", "total", "per connector", "total / one cold build"],
        ...results.fleet.runs.map((f) => [String(f.n), seconds(f.totalMs.median), seconds(f.perConnectorMs.median), one ? ratio(f.totalMs.median, one.totalMs.median) : "–"]),
      ]),
    );
  }
  if (results.engines) {
    const med = (xs: number[]) => summarize(xs).median;
    const cell = (e: EngineSide, v: number) => (e.unavailable ? "n/a" : seconds(v));
    out.push(
      "",
      `Docker and Dagger side by side: the synthetic connector's common build (engine build time; end to end in parentheses) and a fleet of ${config.enginesFleet} source-hello copies (concurrency ${config.fleetConcurrency}, output none). ` +
        "Cold here: a dependency manifest no engine has seen (no prune: the Dagger engine is shared); base layers and the pip cache volume may be warm on both.",
      table([
        ["engine", "cold", "code-only", "dependency change", `fleet of ${config.enginesFleet}`, "per connector"],
        ...results.engines.map((e) => [
          e.unavailable ? `${e.engine} (${e.unavailable})` : e.engine,
          `${cell(e, e.buildMs.cold)} (${cell(e, e.totalMs.cold)})`,
          `${cell(e, med(e.buildMs.code))} (${cell(e, med(e.totalMs.code))})`,
          `${cell(e, e.buildMs.deps)} (${cell(e, e.totalMs.deps)})`,
          cell(e, e.fleet.totalMs),
          cell(e, e.fleet.perConnectorMs),
        ]),
      ]),
    );
  }
  if (results.peer) out.push(...renderPeerReport(results.peer.runs, results.peer.concurrency));
  if (results.supply) out.push("", ...renderSupplyReport(results.supply));
  if (results.analyze) {
    const a = results.analyze;
    out.push(
      "",
      `analyzeRepository on ${a.connectors.toLocaleString("en")} generated connectors (${a.files.toLocaleString("en")} files), fresh process per repetition, median of ${config.repetitions}`,
      table([
        ["measure", "value"],
        ["time (first call)", seconds(a.ms.median)],
        ["time (second call, same process)", seconds(a.warmMs.median)],
        ["peak RSS of the process (getrusage)", megabytes(a.peakRssBytes.median)],
        ["peak RSS increase during the call", megabytes(a.peakRssIncreaseBytes.median)],
        ["report check", a.check.ok ? "ok" : `MISMATCH: ${a.check.detail}`],
      ]),
    );
  }
  out.push("", "Targets");
  for (const t of results.targets) out.push(`  ${t.status.padEnd(4)}  ${t.description}\n        ${t.figures}`);
  out.push("", `Load average before/after: ${results.machine.loadBefore.map((l) => l.toFixed(2)).join(" ")} / ${results.machine.loadAfter.map((l) => l.toFixed(2)).join(" ")}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

interface Results {
  schema: "airbyte-ci-bench/1";
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; kernel: string; node: string; docker: string; loadBefore: number[]; loadAfter: number[] };
  config: Omit<BenchConfig, "sections"> & { sections: string[] };
  notes: string[];
  synthetic?: {
    rootImage: string;
    rootImageBytes: number;
    baseImage: string;
    indexSecretId: string;
    dependencies: { count: number; extra: string; wheelBytes: number; installedBytes: number; files: number; modulesPerPackage: number; functionsPerModule: number };
    ways: WayResult[];
  };
  fleet?: { concurrency: number; output: string; connector: string; runs: FleetRun[] };
  peer?: { concurrency: number; variant: number; pipIndexUrl: string; runs: PeerRun[] };
  analyze?: AnalyzeResult;
  /** Docker and Dagger side by side (section `engines`). */
  engines?: EngineSide[];
  /** Rebase vs rebuild, reproducible vs plain publishing (section `supply`). */
  supply?: SupplyResults;
  targets: Target[];
}

const NOTES = [
  "Build times are wall times of `docker build` (variants) and of the Docker engine's build (common build, timed around Engine.build inside buildConnectors); totalMs adds the spec check and tagging.",
  "Cold: the way's previous images removed and `docker builder prune -af` (all BuildKit cache, cache mounts included) before the build; the fixture root image stays.",
  "Code-only change: one line appended to source_synthetic/source.py, BENCH_CODE_EDITS times in a row per repetition (each rebuild timed). Dependency change: one more requirement in setup.py (a package not installed before).",
  "A repetition whose rebuilds found no cached step at all (the BuildKit cache removed by another process between builds) is discarded and repeated (see discarded).",
  "Variants: the seed's Dockerfiles with FROM the fixture root image, `ARG PIP_INDEX_URL`, bash/tzdata installs replaced by checks (already in the image), and variant 2's `COPY --from=builder /install/local /usr/local` (Debian's --prefix layout); see variants.ts.",
  "Common build: buildConnectors with the local catalog, FROM the published base image; the index is the build-wide pipIndex option (--pip-index-url), exposed to every RUN as the secret variables PIP_INDEX_URL and PIP_TRUSTED_HOST (no hook).",
  "The loopback index answers with PyPI's Cache-Control headers and is a pip trusted host, so pip's HTTP cache behaves as with https PyPI: in the image layer for variants 1 and 3 (builder stage for variant 2), in the cache mount for the common build.",
  "Other Docker activity on the machine (e.g. a test suite) during the run adds noise; see the load averages.",
];

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = new Date();
  const config = readConfig(REPO_ROOT);
  const loadBefore = loadavg();
  log(
    `config: ${config.repetitions} repetition(s), ${config.packages} synthetic packages × ${config.modulesPerPackage} modules, fleet ${config.fleetSizes.join("/")} at concurrency ${config.fleetConcurrency}, ` +
      `analyze ${config.analyzeConnectors} connectors, sections ${[...config.sections].join(",")}${config.quick ? " (BENCH_QUICK)" : ""}`,
  );

  // Preflight: clear errors before anything is built.
  const dockerVersion = await dockerServerVersion();
  const rootFile = join(REPO_ROOT, ".local/fixture/root-amd64.json");
  if (!existsSync(rootFile)) throw new BenchError(`${rootFile} does not exist: run bash scripts/bootstrap.sh (it builds the fixture root image)`);
  const rootImage = (JSON.parse(readFileSync(rootFile, "utf8")) as { address?: string }).address;
  if (!rootImage) throw new BenchError(`${rootFile} has no address field`);
  const { catalog } = loadCatalog(join(REPO_ROOT, ".local/fixture/catalog.json"));
  const baseImage = catalog.find("1.0.0")?.publishedAddress;
  if (!baseImage) throw new BenchError("the local catalog's 1.0.0 is not published: run bash scripts/bootstrap.sh");
  const registry = await fetch("http://127.0.0.1:5000/v2/").catch(() => undefined);
  if (!registry?.ok) throw new BenchError("no OCI registry answers on 127.0.0.1:5000: run bash scripts/env/setup.sh");

  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-bench-"));
  cleanups.push({ what: "temporary folder", fn: () => {
      if (config.keepWork) log(`kept ${work}`);
      else rmSync(work, { recursive: true, force: true });
    },
  });
  const results: Results = {
    schema: "airbyte-ci-bench/1",
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    durationMs: 0,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", memoryBytes: totalmem(), kernel: release(), node: process.version, docker: dockerVersion, loadBefore, loadAfter: [] },
    config: { ...config, sections: [...config.sections] },
    notes: NOTES,
    targets: [],
  };

  const images = new Map<string, string[]>();
  const fleetImages: string[] = [];
  cleanups.push({
    what: "images",
    fn: async () => {
      if (config.keepImages) return;
      const tags = WAYS.flatMap(wayTags);
      await removeImages([...[...images.values()].flat(), ...tags, ...fleetImages]);
      if (config.fleetOutput === "docker") {
        await removeImages(Array.from({ length: Math.max(...config.fleetSizes) }, (_, i) => `airbyte-bench/source-fleet-${String(i + 1).padStart(3, "0")}:0.1.0`));
      }
    },
  });

  if (config.sections.has("synthetic")) {
    const genStarted = performance.now();
    const wheels = generateSyntheticWheels(join(work, "wheels"), {
      count: config.packages,
      modulesPerPackage: config.modulesPerPackage,
      functionsPerModule: config.functionsPerModule,
      dataFilesPerPackage: 2,
      dataFileKiB: 24,
    });
    const all = [...wheels.packages, wheels.extra];
    log(`generated ${all.length} wheels (${megabytes(all.reduce((n, p) => n + p.bytes, 0))}) in ${seconds(performance.now() - genStarted)}`);
    const index = await startPackageIndex(wheels.dir, all);
    cleanups.push({ what: "package index", fn: () => index.close() });
    log(`package index on ${index.url}`);
    const ctx: SyntheticContext = { config, work, index, wheels, catalog, baseImage, rootImage, engine: new TimedEngine(new DockerEngine()), images };
    const synthetic = await runSynthetic(ctx);
    results.synthetic = {
      rootImage,
      rootImageBytes: await imageSize(rootImage),
      baseImage,
      indexSecretId: PIP_INDEX_SECRETS.indexUrl,
      dependencies: {
        count: wheels.packages.length,
        extra: wheels.extra.project,
        wheelBytes: wheels.packages.reduce((n, p) => n + p.bytes, 0),
        installedBytes: wheels.packages.reduce((n, p) => n + p.installedBytes, 0),
        files: wheels.packages.reduce((n, p) => n + p.files, 0),
        modulesPerPackage: config.modulesPerPackage,
        functionsPerModule: config.functionsPerModule,
      },
      ways: synthetic.ways,
    };
    await index.close();
  }

  if (config.sections.has("fleet")) {
    log(`fleet: ${config.fleetSizes.join(", ")} connectors, concurrency ${config.fleetConcurrency}, output ${config.fleetOutput}`);
    const runs = await runFleet(config, work, catalog, baseImage, fleetImages);
    results.fleet = { concurrency: config.fleetConcurrency, output: config.fleetOutput, connector: "examples/source-hello (renamed copies)", runs };
  }

  if (config.sections.has("peer")) {
    const pipIndexUrl = process.env.AIRBYTE_CI_PIP_INDEX_URL ?? readFileSync(join(REPO_ROOT, ".local/env/pip-index-url"), "utf8").trim();
    log(`peer: ${config.peerSizes.join(", ")} connectors, concurrency ${config.fleetConcurrency}, index ${pipIndexUrl}`);
    const peerImages: string[] = [];
    cleanups.push({ what: "peer images", fn: () => (config.keepImages ? undefined : removeImages(peerImages)) });
    const runs = await runPeerComparison({
      sizes: config.peerSizes,
      concurrency: config.fleetConcurrency,
      repetitions: config.repetitions,
      work,
      catalog,
      baseImage,
      exampleDir: join(REPO_ROOT, "examples", "source-hello"),
      pipIndexUrl,
      log,
      images: peerImages,
      onProgress: (done) => {
        mkdirSync(config.resultsDir, { recursive: true });
        writeFileAtomic(join(config.resultsDir, "peer-partial.json"), `${JSON.stringify({ concurrency: config.fleetConcurrency, variant: PEER_VARIANT, runs: done }, null, 2)}\n`);
        log(renderPeerReport(done, config.fleetConcurrency).join("\n"));
      },
    });
    results.peer = { concurrency: config.fleetConcurrency, variant: PEER_VARIANT, pipIndexUrl, runs };
  }

  if (config.sections.has("analyze")) {
    results.analyze = await runAnalyze(config, work);
  }

  if (config.sections.has("engines")) {
    const wheels = generateSyntheticWheels(join(work, "engine-wheels"), {
      count: config.packages,
      modulesPerPackage: config.modulesPerPackage,
      functionsPerModule: config.functionsPerModule,
      dataFilesPerPackage: 2,
      dataFileKiB: 24,
    });
    const index = await startPackageIndex(wheels.dir, [...wheels.packages, wheels.extra]);
    cleanups.push({ what: "package index (engines)", fn: () => index.close() });
    log(`engines: Docker and Dagger side by side, package index on ${index.url}`);
    results.engines = await runEngines(config, work, catalog, baseImage, index, wheels);
    await index.close();
  }

  if (config.sections.has("supply")) {
    const pipIndexUrl = process.env.AIRBYTE_CI_PIP_INDEX_URL ?? readFileSync(join(REPO_ROOT, ".local/env/pip-index-url"), "utf8").trim();
    const supplyImages: string[] = [];
    cleanups.push({ what: "supply images", fn: () => (config.keepImages ? undefined : removeImages(supplyImages)) });
    const registryPrefix = `127.0.0.1:5000/airbyte-bench-${startedAt.getTime()}`;
    log(`supply: rebase vs rebuild of ${config.supplyFleet} connectors (1.0.0 → 1.1.0), reproducible vs plain publish of ${config.supplyReproducible}, under ${registryPrefix}`);
    results.supply = await runSupply({
      catalog,
      from: "1.0.0",
      to: "1.1.0",
      fleetSize: config.supplyFleet,
      ...(config.supplyCdk !== undefined ? { cdkRequirement: config.supplyCdk } : {}),
      reproducibleSize: config.supplyReproducible,
      repetitions: config.repetitions,
      concurrency: config.fleetConcurrency,
      work,
      exampleDir: join(REPO_ROOT, "examples", "source-hello"),
      pipIndexUrl,
      registryPrefix,
      log,
      images: supplyImages,
    });
  }

  results.targets = [...evaluateTargets(results.synthetic, results.fleet?.runs, results.analyze), ...(results.peer ? peerTargets(results.peer.runs) : []), ...(results.supply ? supplyTargets(results.supply) : [])];
  const finishedAt = new Date();
  results.finishedAt = finishedAt.toISOString();
  results.durationMs = finishedAt.getTime() - startedAt.getTime();
  results.machine.loadAfter = loadavg();
  printReport(config, results);

  mkdirSync(config.resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  // A run of some sections only does not replace the full run's latest.json.
  const partial = config.sections.size < SECTIONS.length ? `-${[...config.sections].join("-")}` : "";
  const suffix = `${partial}${config.quick ? "-quick" : ""}`;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const latest = join(config.resultsDir, `latest${suffix}.json`);
  writeFileAtomic(latest, json);
  writeFileAtomic(join(config.resultsDir, `${stamp}${suffix}.json`), json);
  log(`results: ${latest} (and ${stamp}${suffix}.json), ${seconds(results.durationMs)} in all; docker client ${DOCKER}`);
  return 0;
}

main()
  .then(async (code) => {
    await runCleanups();
    process.exitCode = code;
  })
  .catch(async (error: unknown) => {
    // After a signal the handler owns the shutdown: a build failing because it was stopped is expected,
    // and the processes the cleanup starts must not be killed.
    if (interrupted) return;
    const message = error instanceof BenchError || error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[bench] error: ${message}\n`);
    if (!cleaningUp) killTrackedProcesses();
    await runCleanups();
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  });
