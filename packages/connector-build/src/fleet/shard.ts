import { createHash } from "node:crypto";
import { ConnectorBuildError } from "../errors.ts";
import { compare } from "../connector/discover.ts";

/** Most shards `--shard` accepts (GitHub Actions runs at most 256 jobs per matrix). */
export const MAX_SHARDS = 1000;

/** `--shard <i>/<n>`: this run builds shard `index` (1-based) of `count`. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** Parses `--shard <i>/<n>` (1 ≤ i ≤ n). */
export function parseShard(value: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count || !Number.isSafeInteger(count)) {
    throw new ConnectorBuildError("USAGE", `--shard '${value}': expected <i>/<n> with 1 ≤ i ≤ n, e.g. 2/4`);
  }
  // The partition holds every shard: a CI matrix has at most a few hundred jobs.
  if (count > MAX_SHARDS) throw new ConnectorBuildError("USAGE", `--shard '${value}': ${count} shards: expected at most ${MAX_SHARDS} (one CI job each)`);
  return { index, count };
}

function weight(text: string): bigint {
  return createHash("sha256").update(text).digest().readBigUInt64BE(0);
}

/**
 * Splits names into `count` shards (returned 0-based), stable and balanced:
 * - balanced: shard sizes differ by at most one (the first `names % count` shards hold one more);
 * - stable: the partition is a pure function of the set of names and `count` (no order, clock or
 *   machine enters), so every CI job computes the same one, and each name is in exactly one shard;
 * - mostly stable as the set changes: each name ranks the shards by a hash of (name, shard)
 *   (rendezvous hashing) and takes its first choice that still has room, names placed in the order
 *   of their own hash. Adding or removing a connector moves only a few others, unlike dealing a
 *   sorted list round-robin (which shifts every name after the change).
 */
export function partition(names: readonly string[], count: number): string[][] {
  const unique = [...new Set(names)];
  const shards: string[][] = Array.from({ length: count }, () => []);
  const capacity = (shard: number) => Math.floor(unique.length / count) + (shard < unique.length % count ? 1 : 0);
  const order = unique.map((name) => ({ name, w: weight(name) })).sort((a, b) => (a.w < b.w ? -1 : a.w > b.w ? 1 : compare(a.name, b.name)));
  for (const { name } of order) {
    const choices = shards
      .map((_, shard) => ({ shard, w: weight(`${name}\0${shard}`) }))
      .sort((a, b) => (a.w > b.w ? -1 : a.w < b.w ? 1 : a.shard - b.shard));
    const target = choices.find((c) => (shards[c.shard] as string[]).length < capacity(c.shard));
    (shards[(target as { shard: number }).shard] as string[]).push(name);
  }
  for (const shard of shards) shard.sort(compare);
  return shards;
}

/** The items of shard `spec.index` of `spec.count`, keyed by `nameOf` (the connector's technical name). */
export function selectShard<T>(items: readonly T[], spec: ShardSpec, nameOf: (item: T) => string): T[] {
  const mine = new Set(partition(items.map(nameOf), spec.count)[spec.index - 1]);
  return items.filter((item) => mine.has(nameOf(item)));
}
