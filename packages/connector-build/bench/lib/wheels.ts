import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeZip, type ZipEntry } from "./zip.ts";

/** Shape of the synthetic dependency set. */
export interface SyntheticPackagesOptions {
  /** Packages the connector depends on (one more, the "extra", is generated for the dependency change). */
  readonly count: number;
  readonly modulesPerPackage: number;
  readonly functionsPerModule: number;
  readonly dataFilesPerPackage: number;
  readonly dataFileKiB: number;
}

/** One generated wheel. */
export interface SyntheticPackage {
  /** Project name as requirements spell it: `benchdep-007`. */
  readonly project: string;
  /** Import name: `benchdep_007`. */
  readonly module: string;
  readonly version: string;
  /** Wheel file name. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Uncompressed bytes of the files the wheel installs. */
  readonly installedBytes: number;
  /** Files the wheel installs. */
  readonly files: number;
  /** Requirements of this package (other generated packages). */
  readonly requires: readonly string[];
}

/** The generated wheels: `packages` the connector needs at first, `extra` added by the dependency change. */
export interface SyntheticWheels {
  readonly dir: string;
  readonly packages: readonly SyntheticPackage[];
  readonly extra: SyntheticPackage;
}

export const SYNTHETIC_VERSION = "1.0.0";

function projectName(i: number): string {
  return `benchdep-${String(i).padStart(3, "0")}`;
}

/** PEP 503 normalised name. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function recordHash(data: Buffer): string {
  return `sha256=${createHash("sha256").update(data).digest("base64url")}`;
}

/** A deterministic pseudo-random generator, so the same options give the same wheels. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const WORDS = ["account", "record", "stream", "cursor", "schema", "token", "page", "batch", "field", "state", "window", "retry", "client", "request", "response", "catalog"];

/** Python source of one module: classes and functions with real bodies, so byte-compiling costs what real code does. */
function moduleSource(pkg: string, m: number, functions: number, random: () => number): string {
  const word = () => WORDS[Math.floor(random() * WORDS.length)] as string;
  const lines: string[] = [
    `"""${pkg}.mod_${String(m).padStart(3, "0")}: generated for the connector build benchmark."""`,
    "from __future__ import annotations",
    "",
    "import dataclasses",
    "import functools",
    "import json",
    "from typing import Any, Dict, Iterable, List, Optional",
    "",
    `DEFAULTS = {${Array.from({ length: 8 }, (_, i) => `"${word()}_${i}": ${Math.floor(random() * 1000)}`).join(", ")}}`,
    "",
  ];
  for (let f = 0; f < functions; f++) {
    const name = `${word()}_${m}_${f}`;
    const k = 2 + Math.floor(random() * 7);
    lines.push(
      "",
      "@dataclasses.dataclass",
      `class ${name.charAt(0).toUpperCase()}${name.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase())}:`,
      `    """A ${word()} ${word()} of the ${word()} (${f})."""`,
      "",
      "    identifier: int",
      "    name: str",
      "    attributes: Dict[str, Any] = dataclasses.field(default_factory=dict)",
      "    parent: Optional[int] = None",
      "",
      "    def to_record(self) -> Dict[str, Any]:",
      `        record = {"id": self.identifier, "name": self.name, "kind": "${word()}"}`,
      "        for key, value in sorted(self.attributes.items()):",
      "            if isinstance(value, (list, tuple)):",
      "                record[key] = [str(v) for v in value]",
      "            elif isinstance(value, dict):",
      "                record[key] = json.dumps(value, sort_keys=True)",
      "            else:",
      "                record[key] = value",
      "        return record",
      "",
      "    def matches(self, query: str) -> bool:",
      `        return query.lower() in self.name.lower() or str(self.identifier) == query`,
      "",
      "",
      `@functools.lru_cache(maxsize=${16 * k})`,
      `def transform_${m}_${f}(value: int, factor: int = ${k}) -> List[int]:`,
      `    """Transforms a ${word()} count into ${word()} offsets."""`,
      "    result: List[int] = []",
      "    for n in range(value):",
      `        if n % ${k} == 0:`,
      "            result.append(n * factor)",
      `        elif n % ${k + 1} == 1:`,
      "            result.append(n - factor)",
      "        else:",
      `            result.append((n << 1) ^ ${Math.floor(random() * 255)})`,
      "    return result",
      "",
      "",
      `def paginate_${m}_${f}(items: Iterable[Dict[str, Any]], size: int = ${10 * k}) -> Iterable[List[Dict[str, Any]]]:`,
      "    page: List[Dict[str, Any]] = []",
      "    for item in items:",
      `        if item.get("${word()}") is None and DEFAULTS:`,
      `            item = {**item, "${word()}": next(iter(DEFAULTS.values()))}`,
      "        page.append(item)",
      "        if len(page) >= size:",
      "            yield page",
      "            page = []",
      "    if page:",
      "        yield page",
    );
  }
  lines.push("");
  return lines.join("\n");
}

function dataFile(kib: number, random: () => number): Buffer {
  const properties: Record<string, unknown> = {};
  let text = "";
  let i = 0;
  while (text.length < kib * 1024) {
    properties[`${WORDS[i % WORDS.length] as string}_${i}`] = { type: random() > 0.5 ? "string" : ["null", "integer"], description: `Generated property ${i} ${Math.floor(random() * 1e9).toString(36)}` };
    i++;
    if (i % 32 === 0) text = JSON.stringify({ type: "object", properties });
  }
  return Buffer.from(JSON.stringify({ type: "object", properties }, null, 1));
}

function buildWheel(dir: string, index: number, requires: readonly string[], options: SyntheticPackagesOptions): SyntheticPackage {
  const project = projectName(index);
  const module = project.replaceAll("-", "_");
  const version = SYNTHETIC_VERSION;
  const distInfo = `${module}-${version}.dist-info`;
  const random = rng(0x9e3779b9 ^ (index + 1) * 7919);
  const files: ZipEntry[] = [];
  files.push({
    name: `${module}/__init__.py`,
    data: Buffer.from(`"""Synthetic dependency ${project} of the connector build benchmark."""\n\n__version__ = "${version}"\nMODULES = ${options.modulesPerPackage}\n`),
  });
  for (let m = 0; m < options.modulesPerPackage; m++) {
    files.push({ name: `${module}/mod_${String(m).padStart(3, "0")}.py`, data: Buffer.from(moduleSource(module, m, options.functionsPerModule, random)) });
  }
  for (let d = 0; d < options.dataFilesPerPackage; d++) {
    files.push({ name: `${module}/schemas/schema_${d}.json`, data: dataFile(options.dataFileKiB, random) });
  }
  const metadata = [
    "Metadata-Version: 2.1",
    `Name: ${project}`,
    `Version: ${version}`,
    `Summary: Synthetic dependency ${index} of the connector build benchmark`,
    "Requires-Python: >=3.8",
    ...requires.map((r) => `Requires-Dist: ${r}`),
    "",
    "",
  ].join("\n");
  files.push({ name: `${distInfo}/METADATA`, data: Buffer.from(metadata) });
  files.push({ name: `${distInfo}/WHEEL`, data: Buffer.from("Wheel-Version: 1.0\nGenerator: airbyte-ci-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n") });
  files.push({ name: `${distInfo}/top_level.txt`, data: Buffer.from(`${module}\n`) });
  const record = [...files.map((f) => `${f.name},${recordHash(f.data)},${f.data.length}`), `${distInfo}/RECORD,,`, ""].join("\n");
  files.push({ name: `${distInfo}/RECORD`, data: Buffer.from(record) });
  const wheel = writeZip(files);
  const file = `${module}-${version}-py3-none-any.whl`;
  writeFileSync(join(dir, file), wheel);
  return {
    project,
    module,
    version,
    file,
    sha256: createHash("sha256").update(wheel).digest("hex"),
    bytes: wheel.length,
    installedBytes: files.reduce((n, f) => n + f.data.length, 0),
    files: files.length,
    requires,
  };
}

/**
 * Generates `count + 1` pure-Python wheels into `dir`. Package i > 0 requires package ⌊(i-1)/2⌋
 * (a binary tree, so the resolver has real work); the last one is the "extra" the dependency
 * change adds.
 */
export function generateSyntheticWheels(dir: string, options: SyntheticPackagesOptions): SyntheticWheels {
  mkdirSync(dir, { recursive: true });
  const all: SyntheticPackage[] = [];
  for (let i = 0; i <= options.count; i++) {
    const requires = i === 0 ? [] : [`${projectName(Math.floor((i - 1) / 2))}>=1.0`];
    all.push(buildWheel(dir, i, requires, options));
  }
  const extra = all.pop() as SyntheticPackage;
  return { dir, packages: all, extra };
}
