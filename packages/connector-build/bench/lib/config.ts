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
  /** BENCH_PEER_SIZES: fleet sizes of the dependency-free peer comparison (default 1,5,20,100; 1,5 when quick). */
  readonly peerSizes: readonly number[];
  /** BENCH_REALISTIC_SIZES: fleet sizes of the airbyte-cdk peer comparisons, peer-cdk and peer-poetry (default 1,5,20; 1,5 when quick). */
  readonly realisticSizes: readonly number[];
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
  /** `--only` or BENCH_ONLY: comma-separated experiments to run (see {@link SECTIONS}; `supply` means rebase,reproducible); default all. */
  readonly sections: ReadonlySet<Section>;
  /** BENCH_KEEP_IMAGES=1: leave the built images in Docker. */
  readonly keepImages: boolean;
  /** BENCH_KEEP_WORK=1: leave the temporary folder (wheels, connectors, generated tree). */
  readonly keepWork: boolean;
  /** BENCH_RESULTS_DIR (default <repo>/bench/results). */
  readonly resultsDir: string;
}

/** The experiments, one file each under bench/experiments/, in the order a full run runs them. */
export const SECTIONS = ["synthetic", "fleet", "peer", "peer-cdk", "peer-poetry", "analyze", "engines", "rebase", "reproducible"] as const;
export type Section = (typeof SECTIONS)[number];
/** Older names that stand for several experiments. */
const ALIASES: Readonly<Record<string, readonly Section[]>> = { supply: ["rebase", "reproducible"], realistic: ["peer-cdk", "peer-poetry"] };

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

function sizes(name: string, fallback: number[], given?: string): number[] {
  const raw = given ?? process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const list = raw.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1 || n > 500) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected comma-separated whole numbers from 1 to 500, e.g. 1,5,20`);
    return n;
  });
  return [...new Set(list)].sort((a, b) => a - b);
}

/** Command-line arguments (`pnpm bench -- --only rebase --n 5`): they take precedence over the BENCH_* variables. */
export interface BenchArguments {
  /** `--only <experiment,...>`. */
  readonly only?: string;
  /** `--n <size,...>`: the fleet sizes of the experiments run (rebase and reproducible: the largest). */
  readonly n?: string;
}

export const USAGE = `usage: pnpm bench [-- --only <experiment,...>] [--n <size,...>]
experiments: ${SECTIONS.join(", ")} (supply = rebase,reproducible; realistic = peer-cdk,peer-poetry)
settings: BENCH_* variables, see bench/lib/config.ts`;

/** Parses `--only`/`--n` (also `--only=…`); anything else is a usage error. */
export function parseArguments(argv: readonly string[]): BenchArguments {
  const out: { only?: string; n?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") continue;
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name !== "--only" && name !== "--n") throw new ConfigError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new ConfigError(`${name}: expected a value\n${USAGE}`);
    out[name === "--only" ? "only" : "n"] = value;
  }
  return out;
}

function selectSections(only: string | undefined, where: string): Set<Section> {
  if (only === undefined || only.trim() === "") return new Set<Section>(SECTIONS);
  const selected = new Set<Section>();
  for (const name of only.split(",").map((s) => s.trim()).filter(Boolean)) {
    const expanded = ALIASES[name] ?? (SECTIONS.includes(name as Section) ? [name as Section] : undefined);
    if (expanded === undefined) throw new ConfigError(`${where}=${JSON.stringify(only)}: unknown experiment ${JSON.stringify(name)}: expected some of ${SECTIONS.join(", ")} (or supply, realistic)`);
    for (const s of expanded) selected.add(s);
  }
  return selected;
}

export function readConfig(repoRoot: string, args: BenchArguments = {}): BenchConfig {
  const quick = flag("BENCH_QUICK");
  const n = args.n !== undefined ? sizes("--n", [], args.n) : undefined;
  const fleetSizes = n ?? sizes("BENCH_FLEET_SIZES", quick ? [1, 5] : [1, 5, 20]);
  const peerSizes = n ?? sizes("BENCH_PEER_SIZES", quick ? [1, 5] : [1, 5, 20, 100]);
  const realisticSizes = n ?? sizes("BENCH_REALISTIC_SIZES", quick ? [1, 5] : [1, 5, 20]);
  const output = process.env.BENCH_FLEET_OUTPUT ?? "none";
  if (output !== "none" && output !== "docker") throw new ConfigError(`BENCH_FLEET_OUTPUT=${JSON.stringify(output)}: expected none or docker`);
  const sections = args.only !== undefined ? selectSections(args.only, "--only") : selectSections(process.env.BENCH_ONLY, "BENCH_ONLY");
  const largest = n !== undefined ? Math.max(...n) : undefined;
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
    supplyFleet: largest ?? positiveInt("BENCH_SUPPLY_FLEET", quick ? 5 : 20, 200),
    supplyCdk: (process.env.BENCH_SUPPLY_CDK ?? "airbyte-cdk==3.9.6").trim() === "none" ? undefined : (process.env.BENCH_SUPPLY_CDK ?? "airbyte-cdk==3.9.6").trim(),
    supplyReproducible: largest ?? positiveInt("BENCH_SUPPLY_REPRODUCIBLE", quick ? 2 : 5, 100),
    fleetOutput: output,
    peerSizes,
    realisticSizes,
    analyzeConnectors: positiveInt("BENCH_ANALYZE_CONNECTORS", 2000, 100_000),
    sections,
    keepImages: flag("BENCH_KEEP_IMAGES"),
    keepWork: flag("BENCH_KEEP_WORK"),
    resultsDir: resolve(process.env.BENCH_RESULTS_DIR ?? resolve(repoRoot, "bench/results")),
  };
}
