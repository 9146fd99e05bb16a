import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pythonVariantIds, pythonWhitespace, type PythonVariantResult } from "../../test/helpers/python-reference.ts";
import {
  InvalidUtf8Error,
  PYTHON_WHITESPACE,
  decodePythonText,
  dockerfileVariantId,
  normalizeDockerfile,
  pythonSplitlines,
  pythonStrip,
} from "./dockerfile-variant.ts";

const SEED_INSTAGRAM = `FROM python:3.9-slim

# Bash is installed for more convenient debugging.
RUN apt-get update && apt-get install -y bash && rm -rf /var/lib/apt/lists/*

WORKDIR /airbyte/integration_code
COPY source_instagram ./source_instagram
COPY main.py ./
COPY setup.py ./
RUN pip install .

ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.version=1.0.11
LABEL io.airbyte.name=airbyte/source-instagram
`;

interface Case {
  name: string;
  technicalName: string;
  bytes: Uint8Array;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...text(p)] : p)));

/** Hand-written tricky inputs: each targets one Python semantic the port must reproduce. */
function handWrittenCases(): Case[] {
  const t = (name: string, content: string, technicalName = "source-instagram"): Case => ({
    name,
    technicalName,
    bytes: text(content),
  });
  return [
    t("seed example, LF", SEED_INSTAGRAM),
    t("seed example, CRLF", SEED_INSTAGRAM.replaceAll("\n", "\r\n")),
    t("seed example, lone CR", SEED_INSTAGRAM.replaceAll("\n", "\r")),
    t("mixed CR, CRLF, CR CR LF", "FROM a\r\rRUN b\r\r\n# c\r\nRUN d\n\rLABEL io.airbyte.version=1\r"),
    t("comment text inside an instruction", "FROM a\n# x\nRUN echo # x y\nRUN b#x\n"),
    t("comment line found inside another line", "# pip install\nRUN python -m pip install --upgrade pip && pip install .\n"),
    t("bare # removes every #", "#\nFROM a\nRUN echo '#!/bin/sh' > /x # ok\n"),
    t("## and # lines", "##\n#\n# #\nRUN a ## b # c\n"),
    t("removal makes new matches (single pass)", "#a\n##ab\nRUN ##ab#a\n"),
    t("BOM then comment", "\uFEFF# comment\nFROM a\n"),
    t("BOM before FROM", "\uFEFFFROM a\nRUN b\n"),
    t("BOM alone on a line", "FROM a\n\uFEFF\nRUN b\n"),
    t("BOM inside a line", "FROM a\nRUN b\uFEFF\n"),
    t("tabs and indented comments", "FROM a\n\t# indented\n\tRUN b\t\n  # also\n#not-indented\n"),
    t("vertical tab hides a comment", "FROM a\nRUN b\v# hidden comment\nRUN c\n"),
    t("form feed hides a label", "FROM a\f LABEL io.airbyte.version=2\nLABEL io.airbyte.version=2\fRUN x\n"),
    t("\\x1c..\\x1f are whitespace, \\x1c-\\x1e are line breaks", "FROM a\n\x1c\n\x1f\nRUN b\x1d# c\x1e#d\nRUN e\x1f\n"),
    t("unicode line separators", "FROM a\u2028# c\u2029RUN b\x85# d\nRUN \u2028x\n"),
    t("no-break space", "FROM a\n\u00a0\n\u00a0RUN b\u00a0\n\u00a0# not a comment\n"),
    t("other unicode spaces", "FROM a\n\u3000RUN b\u2000\u200a\n\u205f\u202f\u1680\n\u200b\n"),
    t("BOM-only line is not blank for Python", "FROM a\n\uFEFF\n \uFEFF \n"),
    t("version label variants", "LABEL io.airbyte.versionX\n  LABEL io.airbyte.version=1\nLABEL io.airbyte.version=1\nRUN echo LABEL io.airbyte.version=1\n"),
    t("label text inside another line", "LABEL io.airbyte.version=0.1\nLABEL io.airbyte.version=0.1.1\n"),
    t("empty file", ""),
    t("whitespace only", " \n\t\n\r\n"),
    t("comments only", "# a\n# b\n"),
    t("no final newline", "FROM a\nRUN b"),
    t("astral characters", "FROM a\n# 🎉 party\nRUN echo 🎉 party\nRUN echo 𝒳\n"),
    t("replacement-pattern characters", "# $& $1 $$ .* [x]\nRUN echo $& $1 $$ .* [x]\n", "source-$&"),
    t("regex characters in the name", "COPY source-a.b ./source_a.b\nRUN source-aXb\n", "source-a.b"),
    t("name inside other words", "COPY source-s3 source-s3-bucket source_s3_x xsource_s3\n", "source-s3"),
    t("name inside the replacement text", "COPY connector ./connector_x\n", "connector"),
    t("name 'technical'", "RUN technical technical_name\n", "technical"),
    t("name without dash", "COPY source ./source\n", "source"),
    t("one-letter name", "RUN echo e e_e\n", "e"),
    t("name with underscores and dashes", "COPY source_my-name source-my_name source_my_name\n", "source-my_name"),
    t("unicode name", "COPY source_café ./source_café\nLABEL io.airbyte.name=airbyte/source-café\n", "source-café"),
    t("CJK name", "COPY source_日本 .\n# 日本\nRUN 日本\n", "source-日本"),
    t("carriage return in a comment", "# a\rRUN b\n"),
    t("comment after continuation", "RUN a \\\n# b\n  && c\n"),
  ];
}

/** A deterministic PRNG (mulberry32), so the generated corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "FROM python:3.9-slim", "RUN pip install .", "# comment", "#", "##", "# pip", "pip", "LABEL io.airbyte.version=1.0.0",
  "LABEL io.airbyte.version", "LABEL io.airbyte.name=airbyte/source-foo", "source-foo", "source_foo", "source-foo-bar",
  "COPY source_foo ./source_foo", " ", "\t", "\n", "\n", "\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f",
  "\x85", "\u2028", "\u2029", "\u00a0", "\uFEFF", "\u3000", "é", "🎉", "connector-technical-name", "x",
];

/** Random concatenations of tricky pieces. */
function generatedCases(count: number): Case[] {
  const random = prng(20230908);
  const names = ["source-foo", "source-foo-bar", "foo", "source", "o", "source-foo_bar"];
  return Array.from({ length: count }, (_, i) => {
    const length = 1 + Math.floor(random() * 40);
    let content = "";
    for (let k = 0; k < length; k++) content += PIECES[Math.floor(random() * PIECES.length)] ?? "";
    return { name: `generated #${i}`, technicalName: names[i % names.length] ?? "source-foo", bytes: text(content) };
  });
}

const INVALID: Case[] = [
  { name: "latin-1 é", technicalName: "source-x", bytes: bytes("# Jos", [0xe9], "\nFROM a\n") },
  { name: "invalid start byte", technicalName: "source-x", bytes: bytes("FROM a", [0xff]) },
  { name: "encoded surrogate", technicalName: "source-x", bytes: bytes("FROM ", [0xed, 0xa0, 0x80]) },
  { name: "overlong slash", technicalName: "source-x", bytes: bytes("FROM ", [0xc0, 0xaf]) },
  { name: "truncated sequence", technicalName: "source-x", bytes: bytes("FROM ", [0xe2, 0x82]) },
];

describe("Python built-ins", () => {
  it("PYTHON_WHITESPACE is exactly what Python's str.strip() removes", () => {
    expect([...PYTHON_WHITESPACE].sort((a, b) => a - b)).toEqual(pythonWhitespace());
  });

  it("strip differs from JavaScript's trim as Python does", () => {
    expect(pythonStrip("\uFEFF x \uFEFF")).toBe("\uFEFF x \uFEFF");
    expect(pythonStrip("\x1c\x1f\x85 x\u2028")).toBe("x");
    expect(pythonStrip(" \t\n ")).toBe("");
  });

  it("splitlines splits on Python's line boundaries and drops the last empty item", () => {
    expect(pythonSplitlines("")).toEqual([]);
    expect(pythonSplitlines("\n")).toEqual([""]);
    expect(pythonSplitlines("a\n\nb\n")).toEqual(["a", "", "b"]);
    expect(pythonSplitlines("a\r\nb\rc\vd\fe\x1cf\x1dg\x1eh\x85i\u2028j\u2029k\x1fl")).toEqual([
      "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k\x1fl",
    ]);
  });

  it("decodes as read_text(): universal newlines, BOM kept, strict UTF-8", () => {
    expect(decodePythonText(bytes([0xef, 0xbb, 0xbf], "a\r\nb\rc\r\r\nd"))).toBe("\uFEFFa\nb\nc\n\nd");
    expect(() => decodePythonText(bytes("ok ", [0xe9], "x"))).toThrow(InvalidUtf8Error);
    expect(() => decodePythonText(bytes("ok ", [0xe9], "x"))).toThrow(/0xe9 at byte 3/);
  });
});

describe("dockerfileVariantId", () => {
  it("normalizes the seed's instagram Dockerfile as the notebook does", () => {
    expect(normalizeDockerfile(SEED_INSTAGRAM, "source-instagram")).toBe(
      [
        "FROM python:3.9-slim",
        "RUN apt-get update && apt-get install -y bash && rm -rf /var/lib/apt/lists/*",
        "WORKDIR /airbyte/integration_code",
        "COPY connector_technical_name ./connector_technical_name",
        "COPY main.py ./",
        "COPY setup.py ./",
        "RUN pip install .",
        'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"',
        'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
        "LABEL io.airbyte.name=airbyte/connector-technical-name",
      ].join("\n"),
    );
  });

  it("keeps the notebook's str.replace quirks", () => {
    // A comment line's text is removed wherever it occurs, also inside instructions.
    expect(normalizeDockerfile("# pip\nRUN pip install # pip x\n", "source-x")).toBe("RUN pip install  x");
    // A bare "#" line removes every "#".
    expect(normalizeDockerfile("#\nRUN echo '#!/bin/sh'\n", "source-x")).toBe("RUN echo '!/bin/sh'");
    // The name is replaced inside longer words, and again inside its own replacement.
    expect(normalizeDockerfile("COPY connector\n", "connector")).toBe("COPY connector_technical_name-technical-name");
  });

  it("gives CRLF and LF files the same id, a BOM a different one", () => {
    const lf = dockerfileVariantId(decodePythonText(text(SEED_INSTAGRAM)), "source-instagram");
    expect(dockerfileVariantId(decodePythonText(text(SEED_INSTAGRAM.replaceAll("\n", "\r\n"))), "source-instagram")).toBe(lf);
    expect(dockerfileVariantId(decodePythonText(text(`\uFEFF${SEED_INSTAGRAM}`)), "source-instagram")).not.toBe(lf);
    expect(lf).toMatch(/^[0-9a-f]{7}$/);
  });
});

describe("identical to the Python reference implementation", () => {
  const cases = [...handWrittenCases(), ...generatedCases(400), ...INVALID];
  let dir: string;
  let expected: PythonVariantResult[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "variant-corpus-"));
    const requests = cases.map((c, i) => {
      const codeDirectory = join(dir, String(i));
      mkdirSync(codeDirectory);
      writeFileSync(join(codeDirectory, "Dockerfile"), c.bytes);
      return { technicalName: c.technicalName, codeDirectory };
    });
    expected = pythonVariantIds(requests);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("computes the same id for every valid input, and refuses the same invalid ones", () => {
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const reference = expected[i];
      let actual: PythonVariantResult;
      try {
        actual = { id: dockerfileVariantId(decodePythonText(c.bytes), c.technicalName) };
      } catch (error) {
        if (!(error instanceof InvalidUtf8Error)) throw error;
        actual = { error: "UnicodeDecodeError" };
      }
      const ref = reference && "error" in reference ? { error: reference.error.split(":")[0] } : reference;
      if (JSON.stringify(actual) !== JSON.stringify(ref)) {
        mismatches.push(`${c.name} (${JSON.stringify(c.technicalName)}): ${JSON.stringify(actual)} vs Python ${JSON.stringify(ref)}`);
      }
    });
    expect(mismatches).toEqual([]);
    expect(expected.filter((r) => "error" in r)).toHaveLength(INVALID.length);
  });

  it("the corpus is varied: many distinct ids", () => {
    const ids = new Set(expected.flatMap((r) => ("id" in r ? [r.id] : [])));
    expect(ids.size).toBeGreaterThan(300);
  });
});
