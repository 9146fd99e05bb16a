// `pnpm bench [-- --only <experiment,...>] [--n <size,...>]`: build-performance benchmark of the
// common build against the ways a team builds without it, on the local Docker engine and registry.
// Not a test: it measures, prints a table, evaluates targets and writes JSON under
// <repo>/bench/results/. One file per experiment under bench/experiments/; settings: bench/lib/config.ts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "@airbyte-ci/connector-build";
import { analyze } from "./experiments/analyze.ts";
import { engines } from "./experiments/engines.ts";
import { fleet } from "./experiments/fleet.ts";
import { peer, peerCdk, peerPoetry } from "./experiments/peer.ts";
import { rebase } from "./experiments/rebase.ts";
import { reproducible } from "./experiments/reproducible.ts";
import { synthetic } from "./experiments/synthetic.ts";
import { handleInterrupts, isCleaningUp, onCleanup, runCleanups, wasInterrupted } from "./lib/cleanup.ts";
import { ConfigError, parseArguments, readConfig, SECTIONS, type BenchConfig, type Section } from "./lib/config.ts";
import { REPO_ROOT, log, type BenchContext, type Experiment } from "./lib/context.ts";
import { BenchError, DOCKER, dockerServerVersion, removeImages } from "./lib/docker.ts";
import { killTrackedProcesses } from "./lib/proc.ts";
import { seconds } from "./lib/stats.ts";
import type { Target } from "./lib/target.ts";
import { writeFileAtomic } from "./lib/write-atomic.ts";

/** Every experiment, by id, in the order a full run runs them. */
const EXPERIMENTS: Readonly<Record<Section, Experiment<unknown>>> = {
  synthetic,
  fleet,
  peer,
  "peer-cdk": peerCdk,
  "peer-poetry": peerPoetry,
  analyze,
  engines,
  rebase,
  reproducible,
} as Record<Section, Experiment<unknown>>;

interface Results {
  schema: "airbyte-ci-bench/2";
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; kernel: string; node: string; docker: string; loadBefore: number[]; loadAfter: number[] };
  config: Omit<BenchConfig, "sections"> & { sections: string[] };
  notes: string[];
  /** Each experiment's result, by id. */
  experiments: Partial<Record<Section, unknown>>;
  targets: Target[];
}

const NOTES = [
  "Build times are wall times of `docker build` (Dockerfiles) and of the Docker engine's build (common build, timed around Engine.build inside buildConnectors); totalMs adds the spec check and tagging.",
  "Cold (synthetic, fleet, peer-cdk, peer-poetry): `docker builder prune -af` (all BuildKit cache, cache mounts included) before the build; the fixture root image stays. Cold (peer): a new comment in setup.py, which both ways copy before installing.",
  "Code-only change: one line appended to source_synthetic/source.py, BENCH_CODE_EDITS times in a row per repetition (each rebuild timed). Dependency change: one more requirement in setup.py (a package not installed before).",
  "A repetition whose rebuilds found no cached step at all (the BuildKit cache removed by another process between builds) is discarded and repeated (see discarded).",
  "Variants: the seed's Dockerfiles with FROM the fixture root image, `ARG PIP_INDEX_URL`, bash/tzdata installs replaced by checks (already in the image), and variant 2's `COPY --from=builder /install/local /usr/local` (Debian's --prefix layout); see variants.ts.",
  "Common build: buildConnectors with the local catalog, FROM the published base image; the index is the build-wide pipIndex option (--pip-index-url), exposed to every RUN as the secret variables PIP_INDEX_URL and PIP_TRUSTED_HOST (no hook).",
  "peer-cdk and peer-poetry install airbyte-cdk==3.9.6 and its closure from PyPI through the loopback devpi proxy (AIRBYTE_CI_PIP_INDEX_URL).",
  "Other Docker activity on the machine (e.g. a test suite) during the run adds noise; see the load averages.",
];

function printReport(config: BenchConfig, results: Results): void {
  const out: string[] = [];
  for (const id of SECTIONS) {
    const result = results.experiments[id];
    if (result !== undefined) out.push(...EXPERIMENTS[id].report(result, config));
  }
  out.push("", "Targets");
  for (const t of results.targets) out.push(`  ${t.status.padEnd(4)}  ${t.description}\n        ${t.figures}`);
  out.push("", `Load average before/after: ${results.machine.loadBefore.map((l) => l.toFixed(2)).join(" ")} / ${results.machine.loadAfter.map((l) => l.toFixed(2)).join(" ")}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const config = readConfig(REPO_ROOT, parseArguments(process.argv.slice(2)));
  const loadBefore = loadavg();
  log(
    `config: experiments ${[...config.sections].join(",")}; ${config.repetitions} repetition(s), fleet ${config.fleetSizes.join("/")}, peer ${config.peerSizes.join("/")}, ` +
      `realistic ${config.realisticSizes.join("/")}, supply ${config.supplyFleet}/${config.supplyReproducible}, concurrency ${config.fleetConcurrency}${config.quick ? " (BENCH_QUICK)" : ""}`,
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
  const indexFile = join(REPO_ROOT, ".local/env/pip-index-url");
  const pipIndexUrl = process.env.AIRBYTE_CI_PIP_INDEX_URL ?? (existsSync(indexFile) ? readFileSync(indexFile, "utf8").trim() : "");

  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-bench-"));
  onCleanup("temporary folder", () => {
    if (config.keepWork) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });
  const images: string[] = [];
  onCleanup("images", () => (config.keepImages ? undefined : removeImages(images)));
  const ctx: BenchContext = { config, work, catalog, baseImage, rootImage, pipIndexUrl, startedAt, images, onCleanup };
  const results: Results = {
    schema: "airbyte-ci-bench/2",
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    durationMs: 0,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", memoryBytes: totalmem(), kernel: release(), node: process.version, docker: dockerVersion, loadBefore, loadAfter: [] },
    config: { ...config, sections: [...config.sections] },
    notes: NOTES,
    experiments: {},
    targets: [],
  };

  for (const id of SECTIONS) {
    if (!config.sections.has(id)) continue;
    const experiment = EXPERIMENTS[id];
    if (pipIndexUrl === "" && !["synthetic", "fleet", "analyze", "engines"].includes(id)) throw new BenchError(`${id} needs the PyPI proxy: set AIRBYTE_CI_PIP_INDEX_URL or run bash scripts/env/setup.sh`);
    log(`${id}: ${experiment.description}`);
    const started = performance.now();
    const result = await experiment.run(ctx);
    results.experiments[id] = result;
    results.targets.push(...experiment.targets(result));
    log(`${id}: done in ${seconds(performance.now() - started)}`);
  }

  const finishedAt = new Date();
  results.finishedAt = finishedAt.toISOString();
  results.durationMs = finishedAt.getTime() - startedAt.getTime();
  results.machine.loadAfter = loadavg();
  printReport(config, results);

  mkdirSync(config.resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  // A run of some experiments only does not replace the full run's latest.json.
  const partial = config.sections.size < SECTIONS.length ? `-${[...config.sections].join("-")}` : "";
  const suffix = `${partial}${config.quick ? "-quick" : ""}`;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const latest = join(config.resultsDir, `latest${suffix}.json`);
  writeFileAtomic(latest, json);
  writeFileAtomic(join(config.resultsDir, `${stamp}${suffix}.json`), json);
  log(`results: ${latest} (and ${stamp}${suffix}.json), ${seconds(results.durationMs)} in all; docker client ${DOCKER}`);
  return 0;
}

handleInterrupts();
main()
  .then(async (code) => {
    await runCleanups();
    process.exitCode = code;
  })
  .catch(async (error: unknown) => {
    // After a signal the handler owns the shutdown: a build failing because it was stopped is expected,
    // and the processes the cleanup starts must not be killed.
    if (wasInterrupted()) return;
    const message = error instanceof BenchError || error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[bench] error: ${message}\n`);
    if (!isCleaningUp()) killTrackedProcesses();
    await runCleanups();
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  });
