import { describe, expect, it } from "vitest";
import { dockerfileBaseImages } from "./from.ts";
import { parseDockerfileInstructions, unquote } from "./parse.ts";

describe("the one Dockerfile parser (analyze and migrate)", () => {
  it("drops a BOM, honours # escape=` and skips comments and blank lines inside continuations", () => {
    const dockerfile = "\uFEFF# escape=`\nFROM python:3.9 AS base\nRUN echo a `\n\n  # a comment\n  && echo b\nENV A=1\n";
    const instructions = parseDockerfileInstructions(dockerfile);
    expect(instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ["FROM", "python:3.9 AS base", 2],
      ["RUN", "echo a && echo b", 3],
      ["ENV", "A=1", 7],
    ]);
    // analyze reads the same instructions
    expect(dockerfileBaseImages(dockerfile)).toEqual(["python:3.9"]);
  });

  it("keeps a backslash as a literal character under # escape=`", () => {
    const [run] = parseDockerfileInstructions("# escape=`\nRUN dir C:\\Windows\\\n");
    expect(run?.args).toBe("dir C:\\Windows\\");
  });

  it("has one unquote: double quotes with backslash escapes, single quotes literal", () => {
    expect(unquote('"a \\"b\\""')).toBe('a "b"');
    expect(unquote("'a \\b'")).toBe("a \\b");
    expect(unquote("plain")).toBe("plain");
  });
});
