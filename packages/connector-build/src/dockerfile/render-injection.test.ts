import { AirbyteCiError, type ImageRecipe, type RecipeOperation } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { parseDockerfileInstructions, parseEnvArgs, parseExecForm, unquote } from "./parse.ts";
import { renderDockerfile } from "./render.ts";

const FROM = `127.0.0.1:5000/root@sha256:${"a".repeat(64)}`;
const ALPHABET = ["a", "b", "/", ".", "-", "_", " ", "\t", ",", "=", '"', "'", "`", "\\", "$", "#", "[", "]", "{", "\n", "\r", "\u2028", "é", "漢", "🙂", "--mount=type=bind", ",source=/", "RUN ", "\nRUN x", "\\\n"];

/** A small seeded PRNG (mulberry32): every run draws the same strings, a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomValue(next: () => number): string {
  const length = 1 + Math.floor(next() * 8);
  let s = next() < 0.5 ? "/" : "";
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

/** The renderer is the root: recipes are built raw here, bypassing the recipe schema's own checks. */
const raw = (operations: RecipeOperation[]) => ({ operations }) as unknown as ImageRecipe;

/** The options of every `--mount=` flag of a RUN, and the rest (the command). */
function runFlags(args: string): { mounts: string[][]; command: string } {
  const mounts: string[][] = [];
  let rest = args;
  for (let m = /^--mount=(\S*)\s+/.exec(rest); m; m = /^--mount=(\S*)\s+/.exec(rest)) {
    mounts.push((m[1] as string).split(","));
    rest = rest.slice(m[0].length);
  }
  return { mounts, command: rest };
}

type Case = { name: string; ops: (value: string) => RecipeOperation[]; check: (value: string, dockerfile: string) => void };

const instructions = (dockerfile: string) => parseDockerfileInstructions(dockerfile);

const CASES: Case[] = [
  {
    name: "withMountedCache path",
    ops: (value) => [{ op: "withMountedCache", path: value, cache: "pip" }, { op: "withExec", args: ["true"] }],
    check: (value, dockerfile) => {
      const [, run] = instructions(dockerfile);
      const { mounts, command } = runFlags(run?.args ?? "");
      expect(mounts).toEqual([["type=cache", `target=${value}`, "id=pip"]]);
      expect(parseExecForm(command)).toEqual(["true"]);
    },
  },
  {
    name: "withMountedCache cache name",
    ops: (value) => [{ op: "withMountedCache", path: "/root/.cache", cache: value }, { op: "withExec", args: ["true"] }],
    check: (value, dockerfile) => {
      const { mounts } = runFlags(instructions(dockerfile)[1]?.args ?? "");
      expect(mounts).toEqual([["type=cache", "target=/root/.cache", `id=${value}`]]);
    },
  },
  {
    name: "withSecretVariable secret id and variable name",
    ops: (value) => [{ op: "withSecretVariable", name: value, secret: value }, { op: "withExec", args: ["true"] }],
    check: (_value, dockerfile) => {
      const { mounts, command } = runFlags(instructions(dockerfile)[1]?.args ?? "");
      expect(mounts).toHaveLength(1);
      expect(mounts[0]).toHaveLength(4);
      expect(parseExecForm(command)?.[0]).toBe("/bin/sh");
    },
  },
  {
    name: "withExec argument",
    ops: (value) => [{ op: "withExec", args: ["echo", value] }],
    check: (value, dockerfile) => {
      const { mounts, command } = runFlags(instructions(dockerfile)[1]?.args ?? "");
      expect(mounts).toEqual([]);
      expect(parseExecForm(command)).toEqual(["echo", value]);
    },
  },
  {
    name: "withEnvVariable value",
    ops: (value) => [{ op: "withEnvVariable", name: "A", value }],
    check: (value, dockerfile) => expect(parseEnvArgs(instructions(dockerfile)[1]?.args ?? "")).toEqual([["A", value]]),
  },
  { name: "withEnvVariable name", ops: (value) => [{ op: "withEnvVariable", name: value, value: "x" }], check: () => {} },
  {
    name: "withLabel value",
    ops: (value) => [{ op: "withLabel", name: "io.airbyte.x", value }],
    check: (value, dockerfile) => {
      const args = instructions(dockerfile)[1]?.args ?? "";
      expect(unquote(args.slice(args.indexOf("=") + 1))).toBe(value);
    },
  },
  { name: "withLabel name", ops: (value) => [{ op: "withLabel", name: value, value: "x" }], check: () => {} },
  { name: "withWorkdir", ops: (value) => [{ op: "withWorkdir", path: value }], check: () => {} },
  { name: "withUser", ops: (value) => [{ op: "withUser", name: value }], check: () => {} },
  { name: "withFile", ops: (value) => [{ op: "withFile", source: value, path: value }], check: (_v, d) => expect(parseExecForm(instructions(d)[1]?.args ?? "")).toHaveLength(2) },
  { name: "withNewFile", ops: (value) => [{ op: "withNewFile", path: value, contents: value }], check: () => {} },
  { name: "withoutMount", ops: (value) => [{ op: "withoutMount", path: value }, { op: "withExec", args: ["true"] }], check: () => {} },
  { name: "withEntrypoint", ops: (value) => [{ op: "withEntrypoint", args: [value, value] }], check: (v, d) => expect(parseExecForm(instructions(d)[1]?.args ?? "")).toEqual([v, v]) },
];

const ESCAPED = new Set(["withExec argument", "withFile", "withNewFile", "withEntrypoint"]);
const NAMES = new Set(["withEnvVariable name", "withLabel name", "withSecretVariable secret id and variable name"]);

describe("renderDockerfile: no value can add an instruction, a flag or a mount option", () => {
  for (const testCase of CASES) {
    it(`${testCase.name}: 300 seeded random values either render with exactly the expected instructions or are refused`, () => {
      const next = prng(0x5eed + testCase.name.length);
      let rendered = 0;
      let refused = 0;
      for (let i = 0; i < 300; i++) {
        const value = randomValue(next);
        const ops: RecipeOperation[] = [{ op: "from", address: FROM }, ...testCase.ops(value)];
        let dockerfile: string;
        try {
          dockerfile = renderDockerfile(raw(ops)).dockerfile;
        } catch (error) {
          // Refused: must be the recipe error naming the operation, not a crash.
          expect(AirbyteCiError.isInstance(error) && error.code).toBe("INVALID_RECIPE");
          expect((error as Error).message).toMatch(/operation \d+ \(\w+\): .* cannot be written into a Dockerfile/);
          refused += 1;
          continue;
        }
        rendered += 1;
        const parsed = instructions(dockerfile);
        // One instruction per build-relevant operation (comments for the others).
        const expected = ops.filter((op) => !["withMountedCache", "withoutMount", "withSecretVariable"].includes(op.op)).length;
        expect(parsed.map((p) => p.keyword), JSON.stringify(value)).toHaveLength(expected);
        expect(parsed[0]?.text).toBe(`FROM ${FROM}`);
        testCase.check(value, dockerfile);
      }
      if (ESCAPED.has(testCase.name)) {
        // JSON-array forms escape every value: nothing is refused, everything round-trips.
        expect(rendered).toBe(300);
      } else {
        // Both paths are exercised: safe values render, hostile ones are refused.
        expect(refused).toBeGreaterThan(0);
        if (!NAMES.has(testCase.name)) expect(rendered).toBeGreaterThan(0);
      }
    });
  }

  it("the issue's examples are refused: a space (shell form) and a comma (extra mount option) in a cache path", () => {
    for (const path of ["/root/.cache /bin/sh -c id", "/root/.cache,type=bind,from=evil,source=/"]) {
      expect(() => renderDockerfile(raw([{ op: "from", address: FROM }, { op: "withMountedCache", path, cache: "pip" }, { op: "withExec", args: ["true"] }]))).toThrow(
        /operation 1 \(withMountedCache\): .* cannot be written into a Dockerfile: expected no whitespace, ',', '='/,
      );
    }
  });
});
