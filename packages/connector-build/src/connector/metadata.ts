import { basename, dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { IMAGE_REFERENCE_PATTERN, REPOSITORY_PATH_PATTERN, TAG_PATTERN } from "@airbyte-ci/base-images";
import { z } from "zod";
import { ConnectorBuildError } from "../errors.ts";
import { readText } from "../shared/fs-callback.ts";
import { NotRegularFileError } from "../shared/regular-file.ts";

/** File name of a connector's metadata, in the connector's folder. */
export const METADATA_FILE_NAME = "metadata.yaml";

/**
 * Largest metadata.yaml read (1 MiB; Airbyte's are a few kilobytes): a bigger one is refused with
 * its size, before YAML parsing takes minutes and gigabytes.
 */
export const MAX_METADATA_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Field schemas. Every message says what was found and what was expected; the field path is
// added by the formatter (`data.connectorBuildOptions.baseImage: …`).
// ---------------------------------------------------------------------------------------------

const DIGEST_SUFFIX = /@sha256:[0-9a-f]{64}$/;

/** Describes a YAML value for an error message: `a number (1)`, `a list`, `null`… */
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value)}`;
    case "number":
      return `a number (${String(value)})`;
    case "boolean":
      return `a boolean (${String(value)})`;
    case "object":
      return "a mapping";
    default:
      return typeof value;
  }
}

/** The zod `error` option of a typed field: missing vs. wrong type, both naming the expectation. */
function typeError(expected: string, hint?: (input: unknown) => string | undefined) {
  return (issue: { input?: unknown }): string => {
    if (issue.input === undefined) return `is required: expected ${expected}`;
    const extra = hint?.(issue.input);
    return `expected ${expected}, got ${describeValue(issue.input)}${extra ? `; ${extra}` : ""}`;
  };
}

const unquotedNumberHint = (input: unknown): string | undefined =>
  typeof input === "number" ? "YAML read the unquoted value as a number: quote it in metadata.yaml" : undefined;

/** Docker's limit on a repository name. */
const MAX_REPOSITORY_LENGTH = 255;

/**
 * Why a dockerRepository cannot name an image, or undefined. It is `namespace/name` only: the
 * registry comes from the output (`--output registry:<registry>`), and Docker reads a first
 * component with `.` or `:` (or `localhost`) as a registry host.
 */
function repositoryProblem(value: string): string | undefined {
  const shown = value.length > 80 ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)` : JSON.stringify(value);
  if (value.length > MAX_REPOSITORY_LENGTH) return `${shown} is ${value.length} characters long: expected a Docker repository of at most ${MAX_REPOSITORY_LENGTH}`;
  const first = value.split("/")[0] ?? "";
  if (value.includes("/") && (/[.:]/.test(first) || first === "localhost")) {
    return `${shown} names a registry (${first}): expected namespace/name only, e.g. airbyte/source-instagram; the registry comes from --output registry:<registry>`;
  }
  if (!REPOSITORY_PATH_PATTERN.test(value)) {
    return `${shown} is not a Docker repository: expected lowercase namespace/name without tag or digest, e.g. airbyte/source-instagram`;
  }
  return undefined;
}

const dockerRepositorySchema = z.string({ error: typeError("a Docker repository such as airbyte/source-instagram") }).superRefine((value, ctx) => {
  const problem = repositoryProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
});

const dockerImageTagSchema = z
  .string({ error: typeError("a Docker tag such as 1.0.11", unquotedNumberHint) })
  .regex(TAG_PATTERN, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a Docker tag: expected letters, digits, '_', '.' or '-' ` +
      "(at most 128, not starting with '.' or '-'), e.g. 1.0.11",
  });

const optionalText = (expected: string) =>
  z
    .string({ error: typeError(expected, unquotedNumberHint) })
    .min(1, { error: `is empty: expected ${expected}` })
    .nullish();

const baseImageSchema = z
  .string({ error: typeError("an image reference such as docker.io/airbyte/python-connector-base:1.1.0@sha256:…") })
  .regex(IMAGE_REFERENCE_PATTERN, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not an image reference: expected [registry/]repository[:tag][@sha256:<64 hex digits>], ` +
      "e.g. docker.io/airbyte/python-connector-base:1.1.0@sha256:bd98f650…",
  })
  .nullish();

/**
 * zod schema of the fields of a connector's `metadata.yaml` that the toolkit reads. Every other
 * field is kept as is (loose objects): Airbyte's metadata format has many more, owned elsewhere.
 */
export const connectorMetadataSchema = z.looseObject(
  {
    /** The connector's metadata; Airbyte puts every field under this top-level key. */
    data: z.looseObject(
      {
        /** Image repository the connector is published to, without tag: `airbyte/source-instagram`. */
        dockerRepository: dockerRepositorySchema,
        /** The connector's current version, used as image tag: `1.0.11`. */
        dockerImageTag: dockerImageTagSchema,
        /** Connector language; Airbyte usually records it as a `language:<x>` tag instead. */
        language: optionalText("a language such as python, low-code or java"),
        /** `certified`, `community`, `archived`… */
        supportLevel: optionalText("a support level such as certified or community"),
        /** Free tags; `language:<x>` gives the language. */
        tags: z
          .array(z.string({ error: typeError("a tag such as language:python", unquotedNumberHint) }), {
            error: typeError("a list of tags such as [language:python]"),
          })
          .nullish(),
        /** Options of the common build. */
        connectorBuildOptions: z
          .looseObject(
            {
              /** The base image the connector is built on, pinned by digest. */
              baseImage: baseImageSchema,
            },
            { error: typeError("a mapping with a baseImage: key") },
          )
          .nullish(),
      },
      { error: typeError("a mapping holding dockerRepository, dockerImageTag, supportLevel, tags…") },
    ),
  },
  { error: typeError("a mapping with a top-level data: key") },
);


/** A connector's metadata, read from `<dir>/metadata.yaml`. */
export interface ConnectorMetadata {
  /** The connector's technical name: the name of its folder, e.g. `source-instagram`. */
  technicalName: string;
  /** Absolute path of the connector's folder. */
  dir: string;
  /** Absolute path of its `metadata.yaml`. */
  metadataPath: string;
  /** `data.dockerRepository`, e.g. `airbyte/source-instagram`. */
  dockerRepository: string;
  /** `data.dockerImageTag`, e.g. `1.0.11`. */
  dockerImageTag: string;
  /** `data.language`, else the first `language:<x>` entry of `data.tags`. */
  language?: string;
  /** `data.supportLevel`. */
  supportLevel?: string;
  /** `data.connectorBuildOptions.baseImage`. */
  baseImage?: string;
  /** The whole parsed file, every field included. */
  raw: Readonly<Record<string, unknown>>;
}

/** What the lenient reader could get: like {@link ConnectorMetadata}, without the required fields' guarantee. */
export type PartialConnectorMetadata = Omit<ConnectorMetadata, "dockerRepository" | "dockerImageTag"> & {
  dockerRepository?: string;
  dockerImageTag?: string;
};

/** One problem found in a `metadata.yaml`. */
export interface MetadataProblem {
  /** `error`: the strict reader refuses the file; `warning`: suspicious, accepted. */
  severity: "error" | "warning";
  /** Path of the `metadata.yaml`. */
  file: string;
  /** Field path, e.g. `data.connectorBuildOptions.baseImage`; absent for file-level problems. */
  field?: string;
  /** 1-based line, for YAML syntax errors. */
  line?: number;
  /** 1-based column, for YAML syntax errors. */
  column?: number;
  /** What is wrong and what was expected. */
  message: string;
}

/** Result of the lenient reader: whatever metadata could be read, and every problem. */
export interface MetadataInspection {
  /** Path of the `metadata.yaml`. */
  metadataPath: string;
  /** Undefined when the file is unusable: missing, not YAML, not a mapping, `data` not a mapping. */
  metadata: PartialConnectorMetadata | undefined;
  /** Every problem, errors first in file order. */
  problems: MetadataProblem[];
}

/** Formats a problem as one line: `<file>:<line>:<col>: <field>: <message>`. */
export function formatMetadataProblem(problem: MetadataProblem): string {
  const where = problem.line !== undefined ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  return `${where}: ${problem.field !== undefined ? `${problem.field}: ` : ""}${problem.message}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("");
}

/** The first line of a `yaml` error message, without the position `prettyErrors` appends. */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringAt(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Lenient reading of a `metadata.yaml` content already in memory: never throws, reports problems.
 * Fields that fail validation are left out of the result and reported; the rest is kept.
 *
 * @param source - the file's text.
 * @param dir - the connector's folder; its name is the technical name.
 * @param metadataPath - path reported in problems; default `<dir>/metadata.yaml`.
 */
export function inspectConnectorMetadataSource(
  source: string,
  dir: string,
  metadataPath: string = join(dir, METADATA_FILE_NAME),
): MetadataInspection {
  const file = metadataPath;
  const problems: MetadataProblem[] = [];
  const fail = (message: string, extra: Partial<MetadataProblem> = {}): MetadataInspection => {
    problems.push({ severity: "error", file, message, ...extra });
    return { metadataPath, metadata: undefined, problems };
  };

  const doc = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0];
      problems.push({
        severity: "error",
        file,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
        message: `YAML syntax error: ${firstLine(error.message)}`,
      });
    }
    return { metadataPath, metadata: undefined, problems };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return fail(`cannot read the YAML document: ${(error as Error).message}`);
  }
  for (const warning of doc.warnings) {
    const pos = warning.linePos?.[0];
    problems.push({
      severity: "warning",
      file,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
      message: `YAML: ${firstLine(warning.message)}`,
    });
  }
  if (!isRecord(raw)) {
    return fail(`expected a mapping with a top-level data: key, got ${describeValue(raw)}`);
  }
  const data = raw["data"];
  if (!isRecord(data)) {
    return fail(
      data === undefined
        ? "is required: expected a mapping holding dockerRepository, dockerImageTag, supportLevel, tags…"
        : `expected a mapping holding dockerRepository, dockerImageTag, supportLevel, tags…, got ${describeValue(data)}`,
      { field: "data" },
    );
  }

  const parsed = connectorMetadataSchema.safeParse(raw);
  const invalid: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldPath(issue.path);
      invalid.push(field);
      problems.push({ severity: "error", file, field, message: issue.message });
    }
  }
  // A field is usable when no issue is on it, inside it, or on one of its parents.
  const usable = (field: string): boolean =>
    !invalid.some((bad) => bad === field || bad.startsWith(`${field}.`) || bad.startsWith(`${field}[`) || field.startsWith(`${bad}.`));

  const technicalName = basename(resolve(dir));
  const pick = (key: string): string | undefined => (usable(`data.${key}`) ? stringAt(data, key) : undefined);
  const dockerRepository = pick("dockerRepository");
  const dockerImageTag = pick("dockerImageTag");
  const supportLevel = pick("supportLevel");
  const declaredLanguage = pick("language");

  const tags = Array.isArray(data["tags"]) ? data["tags"] : [];
  const languageTags = [
    ...new Set(
      tags
        .filter((t): t is string => typeof t === "string" && t.startsWith("language:"))
        .map((t) => t.slice("language:".length).trim()),
    ),
  ];
  if (languageTags.includes("")) {
    problems.push({ severity: "warning", file, field: "data.tags", message: "a language: tag has no value: expected e.g. language:python" });
  }
  const tagLanguages = languageTags.filter((l) => l !== "");
  if (tagLanguages.length > 1) {
    problems.push({
      severity: "warning",
      file,
      field: "data.tags",
      message: `several language tags (${tagLanguages.join(", ")}): expected one; using ${tagLanguages[0] ?? ""}`,
    });
  }
  const tagLanguage = tagLanguages[0];
  if (declaredLanguage !== undefined && tagLanguage !== undefined && declaredLanguage !== tagLanguage) {
    problems.push({
      severity: "warning",
      file,
      field: "data.language",
      message: `${declaredLanguage} differs from the tag language:${tagLanguage}: expected them to agree; using ${declaredLanguage}`,
    });
  }
  const language = declaredLanguage ?? tagLanguage;

  const options = data["connectorBuildOptions"];
  const baseImage =
    isRecord(options) && usable("data.connectorBuildOptions.baseImage") ? stringAt(options, "baseImage") : undefined;
  if (baseImage !== undefined && !DIGEST_SUFFIX.test(baseImage)) {
    problems.push({
      severity: "warning",
      file,
      field: "data.connectorBuildOptions.baseImage",
      message: `${baseImage} is not pinned by digest: expected …@sha256:<64 hex digits> for reproducible builds`,
    });
  }
  if (dockerRepository !== undefined && dockerRepository.split("/").pop() !== technicalName) {
    problems.push({
      severity: "warning",
      file,
      field: "data.dockerRepository",
      message: `${dockerRepository} does not end with the connector folder's name: expected <namespace>/${technicalName}`,
    });
  }

  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
  return {
    metadataPath,
    metadata: {
      technicalName,
      dir: resolve(dir),
      metadataPath,
      ...(dockerRepository !== undefined ? { dockerRepository } : {}),
      ...(dockerImageTag !== undefined ? { dockerImageTag } : {}),
      ...(language !== undefined ? { language } : {}),
      ...(supportLevel !== undefined ? { supportLevel } : {}),
      ...(baseImage !== undefined ? { baseImage } : {}),
      raw,
    },
    problems,
  };
}

/**
 * Lenient reader, for analysis: reads `<dir>/metadata.yaml` and reports every problem instead of
 * throwing — a missing or unreadable file, YAML syntax errors (with line), a `data` that is not a
 * mapping, fields of the wrong type. Never rejects.
 */
export async function inspectConnectorMetadata(dir: string): Promise<MetadataInspection> {
  const metadataPath = join(resolve(dir), METADATA_FILE_NAME);
  let source: string;
  try {
    source = await readText(metadataPath, { maxBytes: MAX_METADATA_BYTES });
  } catch (error) {
    return { metadataPath, metadata: undefined, problems: [readProblem(metadataPath, error)] };
  }
  return inspectConnectorMetadataSource(source, dir, metadataPath);
}

function readProblem(file: string, error: unknown): MetadataProblem {
  const code = (error as NodeJS.ErrnoException).code;
  const message =
    error instanceof NotRegularFileError
      ? error.message.slice(file.length + 1)
      : code === "ENOENT"
      ? `does not exist: expected the connector folder ${dirname(file)} to hold its ${METADATA_FILE_NAME}`
      : code === "EISDIR"
        ? `is a directory: expected a ${METADATA_FILE_NAME} file`
        : `cannot be read (${code ?? (error as Error).message}): expected a readable ${METADATA_FILE_NAME} file`;
  return { severity: "error", file, message };
}

/**
 * Strict reader: reads `<dir>/metadata.yaml` and validates it; `dockerRepository` and
 * `dockerImageTag` are required.
 *
 * @throws ConnectorBuildError `INVALID_METADATA` listing every error, each with the file path, the
 * field path, the problem and what was expected. Warnings do not throw.
 */
export async function readConnectorMetadata(dir: string): Promise<ConnectorMetadata> {
  const inspection = await inspectConnectorMetadata(dir);
  const errors = inspection.problems.filter((p) => p.severity === "error");
  const metadata = inspection.metadata;
  if (errors.length > 0 || metadata === undefined) {
    const [only] = errors;
    if (errors.length === 1 && only !== undefined && only.field === undefined && only.line === undefined) {
      throw new ConnectorBuildError("INVALID_METADATA", formatMetadataProblem(only));
    }
    const lines = errors.map(
      (p) =>
        `${p.line !== undefined ? `line ${p.line}, column ${p.column ?? 1}: ` : ""}${p.field !== undefined ? `${p.field}: ` : ""}${p.message}`,
    );
    throw new ConnectorBuildError(
      "INVALID_METADATA",
      `invalid connector metadata in ${inspection.metadataPath}:\n  ${lines.join("\n  ")}`,
    );
  }
  const { dockerRepository, dockerImageTag } = metadata;
  if (dockerRepository === undefined || dockerImageTag === undefined) {
    // Unreachable: both are required by the schema, so their absence is an error above.
    throw new ConnectorBuildError("INVALID_METADATA", `invalid connector metadata in ${inspection.metadataPath}`);
  }
  return { ...metadata, dockerRepository, dockerImageTag };
}
