// Experiment `engines`: Docker and Dagger side by side: the same common build of the synthetic
// connector (cold, code-only, dependency change) and a fleet, on each engine.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";
import { buildConnectors, DaggerEngine, DockerEngine, type EngineName } from "@airbyte-ci/connector-build";
import type { BenchConfig } from "../lib/config.ts";
import { SYNTHETIC_PACKAGE_DIR, applyCodeChange, applyDependencyChange, writeFleetConnector, writeSyntheticConnector } from "../lib/connectors.ts";
import { PLATFORM, REPO_ROOT, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { BenchError } from "../lib/docker.ts";
import { startPackageIndex, type PackageIndex } from "../lib/index-server.ts";
import { seconds, summarize } from "../lib/stats.ts";
import { table, type Target } from "../lib/target.ts";
import { TimedEngine } from "../lib/timed-engine.ts";
import { generateSyntheticWheels, type SyntheticWheels } from "../lib/wheels.ts";

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
      const failed = results.find((r) => r.status !== "success");
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
    const failed = results.find((r) => r.status !== "success");
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


function report(sides: EngineSide[], config: BenchConfig): string[] {
  const med = (xs: number[]) => summarize(xs).median;
  const cell = (e: EngineSide, v: number) => (e.unavailable ? "n/a" : seconds(v));
  return [
    "",
    `Docker and Dagger side by side: the synthetic connector's common build (engine build time; end to end in parentheses) and a fleet of ${config.enginesFleet} source-hello copies (concurrency ${config.fleetConcurrency}, output none). ` +
      "Cold here: a dependency manifest no engine has seen (no prune: the Dagger engine is shared); base layers and the pip cache volume may be warm on both.",
    table([
      ["engine", "cold", "code-only", "dependency change", `fleet of ${config.enginesFleet}`, "per connector"],
      ...sides.map((e) => [
        e.unavailable ? `${e.engine} (${e.unavailable})` : e.engine,
        `${cell(e, e.buildMs.cold)} (${cell(e, e.totalMs.cold)})`,
        `${cell(e, med(e.buildMs.code))} (${cell(e, med(e.totalMs.code))})`,
        `${cell(e, e.buildMs.deps)} (${cell(e, e.totalMs.deps)})`,
        cell(e, e.fleet.totalMs),
        cell(e, e.fleet.perConnectorMs),
      ]),
    ]),
  ];
}

export const engines: Experiment<EngineSide[]> = {
  id: "engines",
  description: "Docker and Dagger side by side (the synthetic connector's common build and a small fleet)",
  async run(ctx: BenchContext): Promise<EngineSide[]> {
    const { config, work } = ctx;
    const wheels = generateSyntheticWheels(join(work, "engine-wheels"), {
      count: config.packages,
      modulesPerPackage: config.modulesPerPackage,
      functionsPerModule: config.functionsPerModule,
      dataFilesPerPackage: 2,
      dataFileKiB: 24,
    });
    const index = await startPackageIndex(wheels.dir, [...wheels.packages, wheels.extra]);
    ctx.onCleanup("package index (engines)", () => index.close());
    log(`engines: Docker and Dagger side by side, package index on ${index.url}`);
    const sides = await runEngines(config, work, ctx.catalog, ctx.baseImage, index, wheels);
    await index.close();
    return sides;
  },
  report,
  targets: (): Target[] => [],
};
