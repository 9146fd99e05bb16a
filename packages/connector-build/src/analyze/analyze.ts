import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  METADATA_FILE_NAME,
  inspectConnectorMetadataSource,
  type MetadataProblem,
  type PartialConnectorMetadata,
} from "../connector/metadata.ts";
import { dockerfileBaseImages } from "../dockerfile/from.ts";
import { InvalidUtf8Error, decodePythonText, dockerfileVariantId } from "./dockerfile-variant.ts";
import { compare, findConnectors, toRelative, type DiscoveredConnector } from "../connector/discover.ts";
import { readBytes, readText } from "../shared/fs-callback.ts";
import { NotRegularFileError } from "../shared/regular-file.ts";
import { createLimiter } from "../shared/pool.ts";

/** Languages the analysis selects by default (the notebook's `SELECTED_LANGUAGES`). */
export const DEFAULT_ANALYSIS_LANGUAGES: readonly string[] = Object.freeze(["python", "low-code"]);
/** Support levels the analysis selects by default (the notebook's `SELECTED_SUPPORTS_LEVELS`). */
export const DEFAULT_ANALYSIS_SUPPORT_LEVELS: readonly string[] = Object.freeze(["certified"]);

/** Options of {@link analyzeRepository}. */
export interface AnalyzeOptions {
  /** Languages to select (exact match). Default `["python", "low-code"]`. */
  languages?: readonly string[];
  /** Support levels to select (exact match). Default `["certified"]`. */
  supportLevels?: readonly string[];
  /** Files read at once. Default 32. */
  concurrency?: number;
}

/** The example of a variant: its first connector by technical name (preferring one with a known image). */
export interface VariantExample {
  /** Technical name. */
  connector: string;
  /** Path of its Dockerfile, relative to the analysed root. */
  dockerfile: string;
  /** `<dockerRepository>:<dockerImageTag>`; absent when the metadata lacks either. */
  image?: string;
  /** The Dockerfile as Python's `read_text()` returns it (universal newlines). */
  content: string;
}

/** A family of Dockerfiles that are identical once connector specifics are removed. */
export interface DockerfileVariant {
  /** The notebook's variant id: 7 hex digits. */
  id: string;
  /** Number of connectors. */
  count: number;
  /** Their technical names, sorted. */
  connectors: string[];
  /** One of them, with its Dockerfile. */
  example: VariantExample;
  /** Images in the `FROM` lines of the variant's Dockerfiles (stage references excluded), in order of appearance. */
  baseImages: string[];
}

/** A Dockerfile that exists but could not be read as UTF-8 text. */
export interface UnreadableDockerfile {
  /** Technical name. */
  connector: string;
  /** Path relative to the analysed root. */
  path: string;
  /** Why. */
  error: string;
}

/** A problem met during the analysis: metadata that cannot be read, a folder that cannot be listed… */
export interface AnalysisProblem {
  /** Technical name, when the problem belongs to a connector. */
  connector?: string;
  /** Path relative to the analysed root. */
  path: string;
  /** `error`: the connector could not be (fully) analysed; `warning`: suspicious. */
  severity: "error" | "warning";
  /** Field path in `metadata.yaml`. */
  field?: string;
  /** 1-based line, for YAML syntax errors. */
  line?: number;
  /** What is wrong and what was expected. */
  message: string;
}

/** What {@link analyzeRepository} found. */
export interface DockerfileAnalysisReport {
  /** The selection that was applied. */
  criteria: { languages: string[]; supportLevels: string[] };
  /** Connectors found (folders holding a `metadata.yaml`), selected or not. */
  scanned: number;
  /** Connectors selected: the sum of the variants' counts, `withoutDockerfile` and `unreadable`. */
  selected: number;
  /** Variants, by count (descending) then id. */
  variants: DockerfileVariant[];
  /** Selected connectors without a Dockerfile: already on the common build. Sorted. */
  withoutDockerfile: string[];
  /** Selected connectors whose Dockerfile could not be read. */
  unreadable: UnreadableDockerfile[];
  /** Metadata and file-system problems. */
  problems: AnalysisProblem[];
}

/** Metadata fields the selection depends on: their problems are reported even for unselected connectors. */
const SELECTION_FIELDS = new Set(["data", "data.language", "data.supportLevel", "data.tags"]);

type Outcome =
  | { kind: "skipped" }
  | {
      kind: "variant";
      connector: string;
      id: string;
      dockerfile: string;
      image: string | undefined;
      content: string;
      baseImages: string[];
    }
  | { kind: "withoutDockerfile"; connector: string }
  | { kind: "unreadable"; connector: string; path: string; error: string };

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The language of a connector whose metadata declares none, from its files, as Airbyte's
 * `connector_ops` did: `manifest.yaml` → manifest-only, `<name_with_underscores>/manifest.yaml` →
 * low-code, `setup.py`/`pyproject.toml` → python, `src/main/java|kotlin` or `build.gradle` → java.
 */
async function detectLanguage(connector: DiscoveredConnector): Promise<string | undefined> {
  const { dir, entries, technicalName } = connector;
  if (entries.has("manifest.yaml")) return "manifest-only";
  const packageDir = technicalName.replaceAll("-", "_");
  if (entries.has(packageDir) && (await isFile(join(dir, packageDir, "manifest.yaml")))) return "low-code";
  if (entries.has("setup.py") || entries.has("pyproject.toml")) return "python";
  if (entries.has("build.gradle") || entries.has("build.gradle.kts")) return "java";
  if (
    entries.has("src") &&
    ((await isDirectory(join(dir, "src", "main", "java"))) || (await isDirectory(join(dir, "src", "main", "kotlin"))))
  ) {
    return "java";
  }
  return undefined;
}

function toAnalysisProblem(root: string, connector: string, problem: MetadataProblem): AnalysisProblem {
  return {
    connector,
    path: toRelative(root, problem.file),
    severity: problem.severity,
    ...(problem.field !== undefined ? { field: problem.field } : {}),
    ...(problem.line !== undefined ? { line: problem.line } : {}),
    message: problem.message,
  };
}

function describeReadError(error: unknown): string {
  if (error instanceof InvalidUtf8Error) return error.message;
  if (error instanceof NotRegularFileError) return error.message.slice(error.path.length + 1);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`;
  if (code === "EISDIR") return "is a directory, not a file";
  if (code === "ENOENT") return "is a broken symbolic link (ENOENT)";
  return code ? `cannot be read (${code})` : String((error as Error).message ?? error);
}

/**
 * Groups the Dockerfiles of an Airbyte repository's connectors into variants, as the 2023 analysis
 * notebook did, so that the remaining per-connector Dockerfiles can be migrated to the common build.
 *
 * Connectors are the folders holding a `metadata.yaml` (see {@link findConnectors}); a connector is
 * selected when its language is in `languages` and its support level in `supportLevels`. The
 * language is the metadata's (`data.language` or a `language:<x>` tag), else it is detected from the
 * connector's files. Variant ids are computed exactly as the notebook's `get_dockerfile_variant`.
 *
 * Files are read concurrently through a bounded pool; no process is spawned. Unreadable
 * Dockerfiles (permissions, invalid UTF-8, which Python's `read_text()` would refuse) and
 * unparseable metadata are reported, never thrown.
 *
 * @param root - an Airbyte checkout (its `airbyte-integrations/connectors` is walked) or any folder of connectors.
 * @throws ConnectorBuildError `ANALYZE_FAILED` when `root` is not a readable folder.
 */
export async function analyzeRepository(root: string, options: AnalyzeOptions = {}): Promise<DockerfileAnalysisReport> {
  const languages = [...(options.languages ?? DEFAULT_ANALYSIS_LANGUAGES)];
  const supportLevels = [...(options.supportLevels ?? DEFAULT_ANALYSIS_SUPPORT_LEVELS)];
  const absoluteRoot = resolve(root);
  const limit = createLimiter(options.concurrency ?? 32);
  const discovery = await findConnectors(absoluteRoot, { limit });

  const problems: AnalysisProblem[] = discovery.problems.map((p) => ({ ...p, severity: "error" as const }));
  const names = new Map<string, string[]>();
  for (const c of discovery.connectors) names.set(c.technicalName, [...(names.get(c.technicalName) ?? []), c.relativeDir]);
  for (const [name, dirs] of names) {
    if (dirs.length > 1) {
      problems.push({
        connector: name,
        path: dirs[0] ?? ".",
        severity: "warning",
        message: `${dirs.length} connectors share the technical name ${name} (${dirs.join(", ")}): expected unique folder names`,
      });
    }
  }

  const analyzeOne = async (connector: DiscoveredConnector): Promise<{ outcome: Outcome; problems: AnalysisProblem[] }> => {
    const metadataPath = join(connector.dir, METADATA_FILE_NAME);
    let metadata: PartialConnectorMetadata | undefined;
    let metadataProblems: MetadataProblem[];
    try {
      const source = await limit(() => readText(metadataPath));
      ({ metadata, problems: metadataProblems } = inspectConnectorMetadataSource(source, connector.dir, metadataPath));
    } catch (error) {
      metadataProblems = [{ severity: "error", file: metadataPath, message: describeReadError(error) }];
    }
    const language = metadata ? (metadata.language ?? (await detectLanguage(connector))) : undefined;
    // The notebook wrote `c.support_level in ("certified")`: `("certified")` is a string, not a
    // tuple, so that was a substring test ("cert" would have matched). We select by exact
    // membership in the list instead — the evident intent; for Airbyte's actual levels
    // (certified, community, archived) both give the same selection. Variant ids are unaffected.
    const selected =
      metadata !== undefined &&
      language !== undefined &&
      languages.includes(language) &&
      metadata.supportLevel !== undefined &&
      supportLevels.includes(metadata.supportLevel);

    const reported = metadataProblems
      .filter((p) => selected || (p.severity === "error" && (metadata === undefined || SELECTION_FIELDS.has(p.field ?? ""))))
      .map((p) => toAnalysisProblem(absoluteRoot, connector.technicalName, p));
    if (!selected || metadata === undefined) return { outcome: { kind: "skipped" }, problems: reported };

    const name = connector.technicalName;
    const dockerfilePath = join(connector.dir, "Dockerfile");
    const dockerfile = toRelative(absoluteRoot, dockerfilePath);
    let bytes: Buffer;
    try {
      bytes = await limit(() => readBytes(dockerfilePath));
    } catch (error) {
      // Missing (and not a dangling link): the connector is built by the common build.
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && !connector.entries.has("Dockerfile")) {
        return { outcome: { kind: "withoutDockerfile", connector: name }, problems: reported };
      }
      return { outcome: { kind: "unreadable", connector: name, path: dockerfile, error: describeReadError(error) }, problems: reported };
    }
    let content: string;
    try {
      content = decodePythonText(bytes);
    } catch (error) {
      return { outcome: { kind: "unreadable", connector: name, path: dockerfile, error: describeReadError(error) }, problems: reported };
    }
    const image =
      metadata.dockerRepository !== undefined && metadata.dockerImageTag !== undefined
        ? `${metadata.dockerRepository}:${metadata.dockerImageTag}`
        : undefined;
    return {
      outcome: {
        kind: "variant",
        connector: name,
        id: dockerfileVariantId(content, name),
        dockerfile,
        image,
        content,
        baseImages: dockerfileBaseImages(content),
      },
      problems: reported,
    };
  };

  const results = await Promise.all(discovery.connectors.map(analyzeOne));

  let selected = 0;
  const byId = new Map<string, Array<Extract<Outcome, { kind: "variant" }>>>();
  const withoutDockerfile: string[] = [];
  const unreadable: UnreadableDockerfile[] = [];
  for (const { outcome, problems: found } of results) {
    problems.push(...found);
    if (outcome.kind === "skipped") continue;
    selected++;
    if (outcome.kind === "withoutDockerfile") withoutDockerfile.push(outcome.connector);
    else if (outcome.kind === "unreadable") unreadable.push({ connector: outcome.connector, path: outcome.path, error: outcome.error });
    else byId.set(outcome.id, [...(byId.get(outcome.id) ?? []), outcome]);
  }

  const variants: DockerfileVariant[] = [];
  for (const [id, members] of byId) {
    // Connectors arrive sorted by technical name (discovery order is kept by Promise.all).
    const example = members.find((m) => m.image !== undefined) ?? (members[0] as (typeof members)[number]);
    const baseImages: string[] = [];
    for (const image of [...example.baseImages, ...members.flatMap((m) => m.baseImages)]) {
      if (!baseImages.includes(image)) baseImages.push(image);
    }
    variants.push({
      id,
      count: members.length,
      connectors: members.map((m) => m.connector),
      example: {
        connector: example.connector,
        dockerfile: example.dockerfile,
        ...(example.image !== undefined ? { image: example.image } : {}),
        content: example.content,
      },
      baseImages,
    });
  }
  variants.sort((a, b) => b.count - a.count || compare(a.id, b.id));
  unreadable.sort((a, b) => compare(a.connector, b.connector) || compare(a.path, b.path));

  return { criteria: { languages, supportLevels }, scanned: discovery.connectors.length, selected, variants, withoutDockerfile, unreadable, problems };
}
