// Experiments `peer`, `peer-cdk` and `peer-poetry`: the same N connectors built the way a team does
// without this toolkit (a Dockerfile per connector on the same published base, pip, plain
// `docker build` at the same concurrency, then `docker run <image> spec`), against the common build
// (buildConnectors), cold and warm, in the same run. Three fleets: copies of source-hello (no
// dependency); the same with setup.py requiring airbyte-cdk==3.9.6 from PyPI through the proxy;
// copies of examples/source-tickets (poetry.lock + airbyte-cdk).
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildConnectors, DockerEngine, type BuildPhase, type ConnectorBuildResult } from "@airbyte-ci/connector-build";
import type { BenchConfig } from "../lib/config.ts";
import { writeDependentFleetConnector, writeFleetConnector, writePoetryFleetConnector } from "../lib/connectors.ts";
import { PLATFORM, REPO_ROOT, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { BenchError, dockerBuild, pruneBuildCache, removeImages, runSpec, vertexTimings } from "../lib/docker.ts";
import { createLimiter } from "../lib/limiter.ts";
import { ratio, seconds } from "../lib/stats.ts";
import { table, type Target } from "../lib/target.ts";
import { poetryPeerDockerfile, variantDockerfile } from "../lib/variants.ts";
import { writeFileAtomic } from "../lib/write-atomic.ts";

/** One kind of fleet the peer comparison runs on. */
interface FleetKind {
  readonly id: "hello" | "cdk-setup" | "cdk-poetry";
  readonly label: string;
  /** Writes connector `i` (from 0) under `parent`. */
  readonly write: (parent: string, name: string, baseImage: string) => string;
  /** The file both ways copy before their dependency install: a comment there makes every later step run again. */
  readonly manifest: string;
  readonly dockerfile: (input: { rootImage: string; technicalName: string; packageDir: string; version: string }) => string;
  /** Cold by `docker builder prune -af` (every BuildKit cache record, pip cache mounts included), else by a new comment in the manifest only. */
  readonly prune: boolean;
}

const HELLO = join(REPO_ROOT, "examples", "source-hello");
const TICKETS = join(REPO_ROOT, "examples", "source-tickets");
/** The real dependency of the realistic fleets, from PyPI through the loopback proxy. */
export const CDK_REQUIREMENT = "airbyte-cdk==3.9.6";

const FLEETS: Record<FleetKind["id"], FleetKind> = {
  hello: {
    id: "hello",
    label: "copies of examples/source-hello (no dependency)",
    write: (parent, name, baseImage) => writeFleetConnector(parent, HELLO, name, baseImage),
    manifest: "setup.py",
    dockerfile: (input) => variantDockerfile(PEER_VARIANT, input),
    prune: false,
  },
  "cdk-setup": {
    id: "cdk-setup",
    label: `copies of examples/source-hello whose setup.py requires ${CDK_REQUIREMENT}`,
    write: (parent, name, baseImage) => writeDependentFleetConnector(parent, HELLO, name, baseImage, CDK_REQUIREMENT),
    manifest: "setup.py",
    dockerfile: (input) => variantDockerfile(PEER_VARIANT, input),
    prune: true,
  },
  "cdk-poetry": {
    id: "cdk-poetry",
    label: "copies of examples/source-tickets (pyproject.toml + poetry.lock, airbyte-cdk 3.9.6)",
    write: (parent, name, baseImage) => writePoetryFleetConnector(parent, TICKETS, name, baseImage),
    manifest: "pyproject.toml",
    dockerfile: (input) => poetryPeerDockerfile(input),
    prune: true,
  },
};
/** The seed variant the peer uses: 3 (dependencies before code) is the best one over cold, code-only and dependency rebuilds. */
export const PEER_VARIANT = 3;

type Way = "common" | "peer";
type Cache = "cold" | "warm";

/** The common build's time per phase, summed over connectors (ms), and BuildKit's own vertices inside `build`. */
export interface PhaseBreakdown {
  /** buildConnectors phases: prepare (metadata, base image, hooks), build (engine), verify (spec container), output (tag/export). */
  phases: Partial<Record<BuildPhase, number>>;
  /** Inside the engine build, from BuildKit's progress: context transfer, steps, image export, other (ms, summed). */
  buildkit: Record<"context transfer" | "steps" | "export" | "other", number>;
}

export interface PeerMeasurement {
  way: Way;
  cache: Cache;
  totalMs: number;
  perConnectorMs: number;
  /** Common build only. */
  breakdown?: PhaseBreakdown;
}

export interface PeerRun {
  n: number;
  /** Which way ran first in each repetition (alternated). */
  order: Way[][];
  /** Every measurement, all repetitions. */
  measurements: PeerMeasurement[];
}

export interface PeerSettings {
  readonly kind: FleetKind;
  readonly sizes: readonly number[];
  readonly concurrency: number;
  /** Repetitions for sizes up to 20 (medians reported); larger sizes run once. */
  readonly repetitions: number;
  readonly work: string;
  readonly catalog: BenchContext["catalog"];
  /** The published base by digest, the FROM of both ways. */
  readonly baseImage: string;
  readonly pipIndexUrl: string;
  readonly log: (message: string) => void;
  /** Image ids and tags to remove at the end. */
  readonly images: string[];
  /** Called after each size with the runs so far (a long N=100 run is not lost if stopped). */
  readonly onProgress?: (runs: readonly PeerRun[]) => void;
}

function breakdownOf(results: readonly ConnectorBuildResult[], lines: ReadonlyMap<string, string[]>): PhaseBreakdown {
  const phases: Partial<Record<BuildPhase, number>> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.phasesMs ?? {})) phases[k as BuildPhase] = (phases[k as BuildPhase] ?? 0) + v;
  const buildkit = { "context transfer": 0, steps: 0, export: 0, other: 0 };
  for (const list of lines.values()) {
    for (const v of vertexTimings(list)) {
      const ms = v.seconds * 1000;
      if (/load build context|transferring context/.test(v.title)) buildkit["context transfer"] += ms;
      else if (/^exporting|writing image|naming to/.test(v.title)) buildkit.export += ms;
      else if (/^\[(?:stage-\d+ )?\s*\d+\/\d+\]/.test(v.title)) buildkit.steps += ms;
      else buildkit.other += ms;
    }
  }
  return { phases, buildkit };
}

async function runCommon(s: PeerSettings, dirs: readonly string[]): Promise<{ ms: number; breakdown: PhaseBreakdown }> {
  const lines = new Map<string, string[]>();
  const started = performance.now();
  const results = await buildConnectors(dirs, {
    engine: new DockerEngine(),
    catalog: s.catalog,
    platforms: [PLATFORM],
    output: { kind: "docker" },
    concurrency: s.concurrency,
    pipIndex: { indexUrl: s.pipIndexUrl },
    onProgress: (connector, line) => {
      const list = lines.get(connector) ?? [];
      list.push(line);
      lines.set(connector, list);
    },
  });
  const ms = performance.now() - started;
  const failed = results.find((r) => r.status !== "success");
  if (failed) throw new BenchError(`common build of ${failed.connector} failed: ${failed.error?.code}: ${failed.error?.message}`);
  s.images.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
  return { ms, breakdown: breakdownOf(results, lines) };
}

function peerTag(dir: string): string {
  return `airbyte-bench-peer/${dir.split("/").at(-1) as string}:0.1.0`;
}

async function runPeer(s: PeerSettings, dirs: readonly string[], dockerfiles: ReadonlyMap<string, string>): Promise<number> {
  const limit = createLimiter(s.concurrency);
  const host = new URL(s.pipIndexUrl).hostname;
  const started = performance.now();
  await Promise.all(
    dirs.map((dir) =>
      limit(async () => {
        const built = await dockerBuild({
          contextDir: dir,
          dockerfile: dockerfiles.get(dir) as string,
          tag: peerTag(dir),
          buildArgs: { PIP_INDEX_URL: s.pipIndexUrl, PIP_TRUSTED_HOST: host },
          workDir: s.work,
        });
        s.images.push(built.imageId);
        await runSpec(peerTag(dir));
      }),
    ),
  );
  return performance.now() - started;
}

/**
 * Makes the next build of these connectors cold: a unique comment in the dependency manifest, which
 * both ways copy before their dependency install, so every step from there on runs again. For the
 * realistic fleets, `docker builder prune -af` too, so that no pip cache mount is warm either. (The
 * dependency-free fleet does not prune: on a shared daemon a prune raced with another build's pull
 * and crashed dockerd 20.10, a BuildKit nil pointer in GetByBlob; run the benchmark on a quiet machine.)
 */
async function makeCold(kind: FleetKind, dirs: readonly string[]): Promise<void> {
  const key = randomBytes(6).toString("hex");
  for (const dir of dirs) appendFileSync(join(dir, kind.manifest), `# bench cold key ${key}\n`);
  if (kind.prune) await pruneBuildCache();
}

/** Runs both ways for each size, cold (every connector step runs: see invalidate) then warm (the same build again). */
export async function runPeerComparison(s: PeerSettings): Promise<PeerRun[]> {
  const largest = Math.max(...s.sizes);
  const parent = join(s.work, `peer-${s.kind.id}`);
  const dockerfileDir = join(s.work, `peer-${s.kind.id}-dockerfiles`);
  mkdirSync(parent, { recursive: true });
  mkdirSync(dockerfileDir, { recursive: true });
  const dirs = Array.from({ length: largest }, (_, i) => s.kind.write(parent, `source-peer-${s.kind.id}-${String(i + 1).padStart(3, "0")}`, s.baseImage));
  const dockerfiles = new Map<string, string>();
  for (const dir of dirs) {
    const name = dir.split("/").at(-1) as string;
    const path = join(dockerfileDir, `${name}.Dockerfile`);
    writeFileSync(path, s.kind.dockerfile({ rootImage: s.baseImage, technicalName: name, packageDir: name.replaceAll("-", "_"), version: "0.1.0" }));
    dockerfiles.set(dir, path);
  }
  const tags = dirs.flatMap((d) => [peerTag(d), `airbyte-bench/${d.split("/").at(-1) as string}:0.1.0`]);
  s.images.push(...tags);
  const runs: PeerRun[] = [];
  for (const [index, n] of s.sizes.entries()) {
    const run: PeerRun = { n, order: [], measurements: [] };
    const reps = n > 20 ? 1 : s.repetitions;
    for (let r = 0; r < reps; r++) {
      const order: Way[] = (index + r) % 2 === 0 ? ["peer", "common"] : ["common", "peer"];
      run.order.push(order);
      for (const way of order) {
        await removeImages([...s.images.splice(0), ...tags]);
        s.images.push(...tags);
        const selected = dirs.slice(0, n);
        await makeCold(s.kind, selected);
        for (const cache of ["cold", "warm"] as const) {
          const m: PeerMeasurement =
            way === "common"
              ? await runCommon(s, selected).then(({ ms, breakdown }) => ({ way, cache, totalMs: ms, perConnectorMs: ms / n, breakdown }))
              : await runPeer(s, selected, dockerfiles).then((ms) => ({ way, cache, totalMs: ms, perConnectorMs: ms / n }));
          run.measurements.push(m);
          s.log(`  peer table N=${n} (${r + 1}/${reps}) ${way} ${cache}: ${seconds(m.totalMs)} (${seconds(m.perConnectorMs)} per connector)`);
        }
      }
    }
    runs.push(run);
    s.onProgress?.(runs);
  }
  return runs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median measurement of a way (its breakdown: the one of the median repetition). */
function find(run: PeerRun, way: Way, cache: Cache): PeerMeasurement | undefined {
  const all = run.measurements.filter((m) => m.way === way && m.cache === cache);
  if (all.length === 0) return undefined;
  const mid = median(all.map((m) => m.totalMs));
  const closest = [...all].sort((a, b) => Math.abs(a.totalMs - mid) - Math.abs(b.totalMs - mid))[0] as PeerMeasurement;
  return { ...closest, totalMs: mid, perConnectorMs: mid / run.n };
}

/** The peer table and the common build's per-phase breakdown, as printed and put in the README. */
export function renderPeerReport(runs: readonly PeerRun[], concurrency: number, kind: FleetKind = FLEETS.hello): string[] {
  const out = [
    "",
    `Peer (${kind.id}): medians (N ≤ 20: of the repetitions; N > 20: one run) over N ${kind.label}; common build (buildConnectors, output docker) vs a Dockerfile per connector (${kind.id === "cdk-poetry" ? "pip install . of the poetry project" : `seed variant ${PEER_VARIANT}`}, FROM the same published base by digest), docker build + docker run spec, both at concurrency ${concurrency}; cold: ${kind.prune ? "BuildKit cache pruned" : "a new comment in the dependency manifest"}`,
  ];
  const rows = [["N", "cache", "common", "peer", "common ÷ peer", "common per connector", "peer per connector"]];
  for (const r of runs) {
    for (const cache of ["cold", "warm"] as const) {
      const c = find(r, "common", cache);
      const p = find(r, "peer", cache);
      if (!c || !p) continue;
      rows.push([String(r.n), cache, seconds(c.totalMs), seconds(p.totalMs), ratio(c.totalMs, p.totalMs), seconds(c.perConnectorMs), seconds(p.perConnectorMs)]);
    }
  }
  out.push(table(rows), "", "Common build, where the time goes (summed over connectors; phases overlap across connectors at concurrency > 1):");
  const phaseRows = [["N", "cache", "prepare (metadata, base, hooks)", "engine build", "of which context", "of which export", "spec container", "tag/output"]];
  for (const r of runs) {
    for (const cache of ["cold", "warm"] as const) {
      const b = find(r, "common", cache)?.breakdown;
      if (!b) continue;
      phaseRows.push([
        String(r.n),
        cache,
        seconds(b.phases.prepare ?? 0),
        seconds(b.phases.build ?? 0),
        seconds(b.buildkit["context transfer"]),
        seconds(b.buildkit.export),
        seconds(b.phases.verify ?? 0),
        seconds(b.phases.output ?? 0),
      ]);
    }
  }
  out.push(table(phaseRows));
  return out;
}

/** The issue's targets: common ≤ 1.0× the peer at every N (cold and warm), per-connector cost falling from 20 to 100. */
function ratiosOf(runs: readonly PeerRun[], cache: Cache): Array<{ n: number; value: number }> {
  return runs.flatMap((r) => {
    const c = find(r, "common", cache);
    const p = find(r, "peer", cache);
    return c && p ? [{ n: r.n, value: c.totalMs / p.totalMs }] : [];
  });
}

function peerTargets(kind: FleetKind, runs: readonly PeerRun[]): Target[] {
  const cold = ratiosOf(runs, "cold");
  const all = [...cold.map((r) => ({ ...r, cache: "cold" })), ...ratiosOf(runs, "warm").map((r) => ({ ...r, cache: "warm" }))];
  const figures = all.map((r) => `N=${r.n} ${r.cache} ${r.value.toFixed(2)}×`).join(", ") || "not measured";
  if (kind.id !== "hello") {
    const fleets = cold.filter((r) => r.n >= 5);
    return [
      {
        id: `peer-${kind.id}`,
        description: `real-dependency fleet (${kind.id}): common build ≤ 0.5× the peer at N ≥ 5, cold`,
        status: fleets.length === 0 ? "SKIP" : fleets.every((r) => r.value <= 0.5) ? "PASS" : "MISS",
        figures,
      },
    ];
  }
  const at = (n: number) => cold.find((r) => r.n === n);
  const [one, twenty] = [at(1), at(20)];
  const cost = (n: number) => {
    const r = runs.find((x) => x.n === n);
    return r ? find(r, "common", "cold")?.perConnectorMs : undefined;
  };
  const [c20, c100] = [cost(20), cost(100)];
  return [
    {
      id: "peer-hello",
      description: "dependency-free fleet: common build ≤ 1.2× the peer at N = 1 and ≤ 0.8× at N = 20, cold",
      status: one === undefined || twenty === undefined ? "SKIP" : one.value <= 1.2 && twenty.value <= 0.8 ? "PASS" : "MISS",
      figures,
    },
    {
      id: "peer-cost-falls",
      description: "common build's cold cost per connector falls from N=20 to N=100",
      status: c20 === undefined || c100 === undefined ? "SKIP" : c100 < c20 ? "PASS" : "MISS",
      figures: c20 === undefined || c100 === undefined ? "N=20 and N=100 not both measured" : `${seconds(c20)} at 20, ${seconds(c100)} at 100`,
    },
  ];
}

export interface PeerResult {
  fleet: FleetKind["id"];
  concurrency: number;
  variant: number;
  pipIndexUrl: string;
  runs: PeerRun[];
}

function peerExperiment(id: string, kind: FleetKind, sizes: (config: BenchConfig) => readonly number[]): Experiment<PeerResult> {
  return {
    id,
    description: `common build vs a Dockerfile per connector: ${kind.label}`,
    async run(ctx: BenchContext): Promise<PeerResult> {
      const { config } = ctx;
      if (kind.id === "cdk-poetry" && !existsSync(join(TICKETS, "poetry.lock"))) throw new BenchError(`${TICKETS}/poetry.lock is missing`);
      log(`${id}: ${sizes(config).join(", ")} connectors (${kind.label}), concurrency ${config.fleetConcurrency}, index ${ctx.pipIndexUrl}`);
      const images: string[] = [];
      ctx.onCleanup(`${id} images`, () => (config.keepImages ? undefined : removeImages(images)));
      const runs = await runPeerComparison({
        kind,
        sizes: sizes(config),
        concurrency: config.fleetConcurrency,
        repetitions: config.repetitions,
        work: ctx.work,
        catalog: ctx.catalog,
        baseImage: ctx.baseImage,
        pipIndexUrl: ctx.pipIndexUrl,
        log,
        images,
        onProgress: (done) => {
          mkdirSync(config.resultsDir, { recursive: true });
          writeFileAtomic(join(config.resultsDir, `${id}-partial.json`), `${JSON.stringify({ fleet: kind.id, concurrency: config.fleetConcurrency, variant: PEER_VARIANT, runs: done }, null, 2)}\n`);
          log(renderPeerReport(done, config.fleetConcurrency, kind).join("\n"));
        },
      });
      return { fleet: kind.id, concurrency: config.fleetConcurrency, variant: PEER_VARIANT, pipIndexUrl: ctx.pipIndexUrl, runs };
    },
    report: (r, config) => renderPeerReport(r.runs, config.fleetConcurrency, kind),
    targets: (r) => peerTargets(kind, r.runs),
  };
}

export const peer = peerExperiment("peer", FLEETS.hello, (c) => c.peerSizes);
export const peerCdk = peerExperiment("peer-cdk", FLEETS["cdk-setup"], (c) => c.realisticSizes);
export const peerPoetry = peerExperiment("peer-poetry", FLEETS["cdk-poetry"], (c) => c.realisticSizes);
