import { describe, expect, it } from "vitest";
import { parseShard, partition, selectShard } from "./shard.ts";

const names = (n: number, prefix = "source-") => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);

describe("partition", () => {
  it("puts every name in exactly one shard, sizes differing by at most one", () => {
    for (const [n, count] of [[0, 3], [1, 4], [7, 3], [100, 4], [101, 8], [5, 5], [3, 10]] as const) {
      const shards = partition(names(n), count);
      expect(shards).toHaveLength(count);
      expect(shards.flat().sort()).toEqual(names(n));
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("is a function of the set: input order does not matter", () => {
    const list = names(40);
    expect(partition([...list].reverse(), 4)).toEqual(partition(list, 4));
  });

  it("moves few connectors when one is added (round-robin over a sorted list would move most)", () => {
    const before = partition(names(100), 4);
    const after = partition([...names(100), "source-zzz-new"], 4);
    const shardOf = (shards: string[][]) => new Map(shards.flatMap((s, i) => s.map((name) => [name, i] as const)));
    const [b, a] = [shardOf(before), shardOf(after)];
    const moved = names(100).filter((name) => b.get(name) !== a.get(name));
    expect(moved.length).toBeLessThanOrEqual(10);
  });

  it("does not deal by position: shards are not alternate names", () => {
    const shards = partition(names(20), 2);
    expect(shards[0]).not.toEqual(names(20).filter((_, i) => i % 2 === 0));
  });
});

describe("parseShard / selectShard", () => {
  it("parses i/n and rejects the rest", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "1/0", "a/b", "1", "1/2/3", "-1/2"]) expect(() => parseShard(bad)).toThrow(/expected <i>\/<n>/);
  });

  it("selects by technical name; the union of the shards is the whole list", () => {
    const dirs = names(9).map((n) => `/repo/${n}`);
    const parts = [1, 2, 3].map((index) => selectShard(dirs, { index, count: 3 }, (d) => d.split("/").at(-1) as string));
    expect(parts.flat().sort()).toEqual(dirs);
    expect(parts.map((p) => p.length)).toEqual([3, 3, 3]);
  });
});
