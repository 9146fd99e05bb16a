import { resolve } from "node:path";

/** Benchmark settings, from the environment. */
export interface BenchConfig {
  /** BENCH_QUICK=1: one repetition, a fleet of 1 and 5, for iterating on the benchmark itself. */
  readonly quick: boolean;
  /** BENCH_REPETITIONS (default 3; 1 when quick). */
  readonly repetitions: number;
  /** BENCH_CODE_EDITS: code-only rebuilds per repetition (default 3): cheap, and the closest comparison. */
  readonly codeEdits: number;
  /** BENCH_PACKAGES: synthetic dependencies of the synthetic connector (default 40). */
  readonly packages: number;
  /** BENCH_MODULES: modules per synthetic package (default 60). */
  readonly modulesPerPackage: number;
  /** BENCH_FUNCTIONS: classes+functions groups per module (default 12). */
  readonly functionsPerModule: number;
  /** BENCH_FLEET_SIZES (default 1,5,20; 1,5 when quick). */
  readonly fleetSizes: readonly number[];
  /** BENCH_FLEET_CONCURRENCY: buildConnectors concurrency for the fleet (default 4). */
  readonly fleetConcurrency: number;
  /** BENCH_FLEET_OUTPUT: none (default) or docker. */
  readonly fleetOutput: "none" | "docker";
  /** BENCH_PEER_SIZES: fleet sizes of the peer comparison (default 1,5,20,100; 1,5 when quick). */
  readonly peerSizes: readonly number[];
  /** BENCH_ANALYZE_CONNECTORS (default 2000). */
  readonly analyzeConnectors: number;
  /** BENCH_ENGINES_FLEET: connectors in the Docker-vs-Dagger fleet (default 5). */
  readonly enginesFleet: number;
  /** BENCH_SUPPLY_FLEET: connectors moved to a new base by rebase and by rebuild (default 20; 5 when quick). */
  readonly supplyFleet: number;
  /** BENCH_SUPPLY_CDK: the requirement of the second rebase-vs-rebuild fleet (default airbyte-cdk==3.9.6; "none" skips it). */
  readonly supplyCdk: string | undefined;
  /** BENCH_SUPPLY_REPRODUCIBLE: connectors published with and without --reproducible (default 5; 2 when quick). */
  readonly supplyReproducible: number;
  /** BENCH_ONLY: comma-separated sections to run (synthetic, fleet, peer, analyze, engines, supply); default all. */
  readonly sections: ReadonlySet<Section>;
  /** BENCH_KEEP_IMAGES=1: leave the built images in Docker. */
  readonly keepImages: boolean;
  /** BENCH_KEEP_WORK=1: leave the temporary folder (wheels, connectors, generated tree). */
  readonly keepWork: boolean;
  /** BENCH_RESULTS_DIR (default <repo>/bench/results). */
  readonly resultsDir: string;
}

export type Section = "synthetic" | "fleet" | "peer" | "analyze" | "engines" | "supply";
export const SECTIONS: readonly Section[] = ["synthetic", "fleet", "peer", "analyze", "engines", "supply"];

export class ConfigError extends Error {
  override name = "ConfigError";
}

function flag(name: string): boolean {
  const v = process.env[name];
  if (v === undefined || v === "" || v === "0" || v.toLowerCase() === "false") return false;
  return true;
}

function positiveInt(name: string, fallback: number, max = 100_000): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected a whole number from 1 to ${max}`);
  return n;
}

function sizes(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const list = raw.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1 || n > 500) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected comma-separated whole numbers from 1 to 500, e.g. 1,5,20`);
    return n;
  });
  return [...new Set(list)].sort((a, b) => a - b);
}

export function readConfig(repoRoot: string): BenchConfig {
  const quick = flag("BENCH_QUICK");
  const fleetSizes = sizes("BENCH_FLEET_SIZES", quick ? [1, 5] : [1, 5, 20]);
  const peerSizes = sizes("BENCH_PEER_SIZES", quick ? [1, 5] : [1, 5, 20, 100]);
  const output = process.env.BENCH_FLEET_OUTPUT ?? "none";
  if (output !== "none" && output !== "docker") throw new ConfigError(`BENCH_FLEET_OUTPUT=${JSON.stringify(output)}: expected none or docker`);
  let sections = new Set<Section>(SECTIONS);
  const only = process.env.BENCH_ONLY;
  if (only !== undefined && only.trim() !== "") {
    const names = only.split(",").map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!SECTIONS.includes(n as Section)) throw new ConfigError(`BENCH_ONLY=${JSON.stringify(only)}: unknown section ${JSON.stringify(n)}: expected some of ${SECTIONS.join(", ")}`);
    }
    sections = new Set(names as Section[]);
  }
  return {
    quick,
    repetitions: positiveInt("BENCH_REPETITIONS", quick ? 1 : 3, 50),
    codeEdits: positiveInt("BENCH_CODE_EDITS", 3, 50),
    packages: positiveInt("BENCH_PACKAGES", 40, 500),
    modulesPerPackage: positiveInt("BENCH_MODULES", 60, 1000),
    functionsPerModule: positiveInt("BENCH_FUNCTIONS", 12, 200),
    fleetSizes,
    fleetConcurrency: positiveInt("BENCH_FLEET_CONCURRENCY", 4, 64),
    enginesFleet: positiveInt("BENCH_ENGINES_FLEET", 5, 100),
    supplyFleet: positiveInt("BENCH_SUPPLY_FLEET", quick ? 5 : 20, 200),
    supplyCdk: (process.env.BENCH_SUPPLY_CDK ?? "airbyte-cdk==3.9.6").trim() === "none" ? undefined : (process.env.BENCH_SUPPLY_CDK ?? "airbyte-cdk==3.9.6").trim(),
    supplyReproducible: positiveInt("BENCH_SUPPLY_REPRODUCIBLE", quick ? 2 : 5, 100),
    fleetOutput: output,
    peerSizes,
    analyzeConnectors: positiveInt("BENCH_ANALYZE_CONNECTORS", 2000, 100_000),
    sections,
    keepImages: flag("BENCH_KEEP_IMAGES"),
    keepWork: flag("BENCH_KEEP_WORK"),
    resultsDir: resolve(process.env.BENCH_RESULTS_DIR ?? resolve(repoRoot, "bench/results")),
  };
}
