// Experiment `reproducible`: publishing with and without `--reproducible` (SOURCE_DATE_EPOCH,
// normalised layers), cold (connector files changed) then warm (the same publish again), and
// whether two reproducible publishes of the same inputs give one digest.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BenchConfig } from "../lib/config.ts";
import { writeFleetConnector } from "../lib/connectors.ts";
import { REPO_ROOT, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { ratio, seconds, summarize, type Summary } from "../lib/stats.ts";
import { SUPPLY_TO, baseAddress, indexDigest, invalidate, publish, setMetadata } from "../lib/supply-fleet.ts";
import type { Target } from "../lib/target.ts";

export interface ReproducibleCost {
  readonly connectors: number;
  /** Wall time per repetition (ms), by mode and cache. */
  readonly plain: { readonly cold: Summary; readonly warm: Summary };
  readonly reproducible: { readonly cold: Summary; readonly warm: Summary };
  /** Index digests of the first connector, per reproducible publish of the same inputs (warm and cold runs of one repetition). */
  readonly reproducibleDigests: readonly string[];
  readonly plainDigests: readonly string[];
}

async function reproducibleCost(ctx: BenchContext): Promise<ReproducibleCost> {
  const base = baseAddress(ctx.catalog, SUPPLY_TO);
  const parent = join(ctx.work, "supply-repro");
  mkdirSync(parent, { recursive: true });
  const example = join(REPO_ROOT, "examples", "source-hello");
  const dirs = Array.from({ length: ctx.config.supplyReproducible }, (_, i) => writeFleetConnector(parent, example, `source-repro-${String(i + 1).padStart(3, "0")}`, base));
  const times = { plain: { cold: [] as number[], warm: [] as number[] }, reproducible: { cold: [] as number[], warm: [] as number[] } };
  const reproducibleDigests: string[] = [];
  const plainDigests: string[] = [];
  for (let r = 0; r < ctx.config.repetitions; r++) {
    const modes = r % 2 === 0 ? (["plain", "reproducible"] as const) : (["reproducible", "plain"] as const);
    for (const mode of modes) {
      for (const dir of dirs) setMetadata(dir, base, `0.2.${r}-${mode}`);
      invalidate(dirs, `${Date.now()}-${r}-${mode}`);
      for (const cache of ["cold", "warm"] as const) {
        const { ms, results } = await publish(ctx, dirs, { reproducible: mode === "reproducible" });
        times[mode][cache].push(ms);
        (mode === "reproducible" ? reproducibleDigests : plainDigests).push(indexDigest(results[0]));
        log(`  reproducible: ${mode} publish of ${dirs.length}, ${cache}: ${seconds(ms)}`);
      }
    }
  }
  return {
    connectors: dirs.length,
    plain: { cold: summarize(times.plain.cold), warm: summarize(times.plain.warm) },
    reproducible: { cold: summarize(times.reproducible.cold), warm: summarize(times.reproducible.warm) },
    reproducibleDigests,
    plainDigests,
  };
}

function sameDigest(list: readonly string[]): string {
  return list.length > 1 && new Set(list).size === 1 ? "yes" : `no (${new Set(list).size} digests in ${list.length} publishes)`;
}

function report(p: ReproducibleCost, _config: BenchConfig): string[] {
  return [
    "",
    `Reproducible publishing: ${p.connectors} connectors to the registry (${p.plain.cold.values.length} repetition(s), medians)`,
    `  cold: plain ${seconds(p.plain.cold.median)}, --reproducible ${seconds(p.reproducible.cold.median)} (${ratio(p.reproducible.cold.median, p.plain.cold.median)})`,
    `  warm: plain ${seconds(p.plain.warm.median)}, --reproducible ${seconds(p.reproducible.warm.median)} (${ratio(p.reproducible.warm.median, p.plain.warm.median)})`,
    `  the cold and the warm publish of the same inputs gave one index digest: --reproducible ${sameDigest(p.reproducibleDigests.slice(0, 2))}, plain ${sameDigest(p.plainDigests.slice(0, 2))}`,
  ];
}

function targets(p: ReproducibleCost): Target[] {
  const oneDigest = p.reproducibleDigests.length > 1 && new Set(p.reproducibleDigests.slice(0, 2)).size === 1;
  const cold = p.reproducible.cold.median / p.plain.cold.median;
  const warm = p.reproducible.warm.median / p.plain.warm.median;
  return [
    {
      id: "reproducible-digest",
      description: "a reproducible publish of the same inputs gives the same index digest",
      status: oneDigest ? "PASS" : "MISS",
      figures: `${new Set(p.reproducibleDigests.slice(0, 2)).size} digest(s) in 2 publishes`,
    },
    {
      id: "reproducible-cost",
      description: "--reproducible publish ≤ 1.3× a plain publish, cold and warm",
      status: cold <= 1.3 && warm <= 1.3 ? "PASS" : "MISS",
      figures: `cold ${ratio(p.reproducible.cold.median, p.plain.cold.median)} (${seconds(p.reproducible.cold.median)} vs ${seconds(p.plain.cold.median)}), warm ${ratio(p.reproducible.warm.median, p.plain.warm.median)}`,
    },
  ];
}

export const reproducible: Experiment<ReproducibleCost> = {
  id: "reproducible",
  description: "publishing with and without --reproducible, cold and warm",
  run: (ctx) => reproducibleCost(ctx),
  report,
  targets,
};
