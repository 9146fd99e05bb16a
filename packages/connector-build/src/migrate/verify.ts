import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import { buildConnectors } from "../build/build-connectors.ts";
import { compareImages, type ImageComparison, type ImageDifference } from "../compare/compare-images.ts";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { parseFromInstructions } from "../dockerfile/from.ts";
import { lastLines } from "../errors.ts";
import { registerCleanup } from "../shared/cleanup.ts";
import { applyMigration, type MigrationPlan } from "./migrate.ts";
import type { PipIndexOptions } from "../connector/pip-index.ts";
import { hasCredentials, pipBuildArgs, serveText, withStageArgs } from "./pinned.ts";

/** How a migration is verified. */
export interface VerifyOptions {
  /** Engine building both images; the "before" build needs {@link Engine.buildDockerfile} (Docker). */
  readonly engine: Engine;
  readonly catalog: BaseImageCatalog;
  /** Default linux/amd64. */
  readonly platform?: Platform;
  /**
   * FROM images replaced in the "before" build, by image as written (`python:3.9-slim` → a local
   * digest-pinned address): for machines that cannot pull the Dockerfile's own base images.
   */
  readonly fromSubstitutions?: Readonly<Record<string, string>>;
  readonly onProgress?: (line: string) => void;
  /** Where both builds' pip finds packages (the Dockerfile build receives it as build arguments). */
  readonly pipIndex?: PipIndexOptions;
  /** `name==version` pins both builds install (migrate --as-of: the lock's, for this platform). */
  readonly pins?: readonly string[];
}

/** One difference between the Dockerfile-built image and the common build's, judged. */
export interface JudgedDifference {
  readonly aspect: ImageDifference["aspect"] | "build";
  /** One line a connector author can read. */
  readonly summary: string;
  /** Expected: the migration means it (new base image, bumped version, labels of the common build). */
  readonly expected: boolean;
}

/** The outcome of building a connector before and after its migration and comparing the images. */
export interface MigrationVerification {
  /** `verified`: only expected differences; `differences`: an unexpected one (the Dockerfile is kept); `unverified`: the check could not run. */
  readonly status: "verified" | "differences" | "unverified";
  /** Why it is unverified. */
  readonly detail?: string;
  readonly differences: readonly JudgedDifference[];
  /** Image ids, when built. */
  readonly before?: string;
  readonly after?: string;
}

/** Env vars a base image sets: a new base image changes them on purpose. */
const BASE_IMAGE_ENV = /^(PYTHON_VERSION|PYTHON_PIP_VERSION|PYTHON_SETUPTOOLS_VERSION|PYTHON_GET_PIP_URL|PYTHON_GET_PIP_SHA256|PYTHON_SHA256|GPG_KEY|LANG|PATH|PIP_VERSION|POETRY_VERSION|PIP_.*|POETRY_.*)$/;
/** Labels the common build adds or rewrites. */
const COMMON_BUILD_LABEL = /^(io\.airbyte\.(version|base-image\.version)|org\.opencontainers\.image\..*)$/;
/** Packaging tools: their versions come with the base image. */
const PACKAGING_TOOLS = new Set(["pip", "setuptools", "wheel", "poetry", "poetry-core", "distlib", "virtualenv"]);

function describe(d: ImageDifference): string {
  const j = (v: unknown) => JSON.stringify(v);
  if (d.kind === "changed") return `${d.aspect}: ${j(d.a)} → ${j(d.b)}`;
  if (d.kind === "unavailable") return `${d.aspect}: not readable in the ${d.in === "a" ? "Dockerfile" : "common build"} image (${d.detail.split("\n")[0]})`;
  if (d.kind === "json") return `spec: ${d.changes.length} change(s): ${d.changes.slice(0, 3).map((c) => j(c)).join("; ")}`;
  const parts: string[] = [];
  if ("added" in d && Object.keys(d.added).length > 0) parts.push(`added ${Object.keys(d.added).join(", ")}`);
  if ("removed" in d && Object.keys(d.removed).length > 0) parts.push(`removed ${Object.keys(d.removed).join(", ")}`);
  if ("changed" in d && Object.keys(d.changed).length > 0) parts.push(`changed ${Object.entries(d.changed).map(([k, v]) => `${k} ${v.a} → ${v.b}`).join(", ")}`);
  return `${d.aspect}: ${parts.join("; ") || "differ"}`;
}

/** Splits one compared aspect into expected and unexpected parts. */
function judge(d: ImageDifference, droppedEnv: ReadonlySet<string>, userChanges: boolean): JudgedDifference[] {
  if (d.kind === "entries" && (d.aspect === "env" || d.aspect === "labels" || d.aspect === "pythonDistributions")) {
    const isExpected = (name: string, side: "added" | "removed" | "changed"): boolean => {
      if (d.aspect === "labels") return COMMON_BUILD_LABEL.test(name);
      if (d.aspect === "env") return BASE_IMAGE_ENV.test(name) || (side === "removed" && droppedEnv.has(name)) || (userChanges && name === "HOME");
      return PACKAGING_TOOLS.has(name.toLowerCase()) || side === "added";
    };
    const out: JudgedDifference[] = [];
    for (const side of ["added", "removed", "changed"] as const) {
      const names = Object.keys(d[side]);
      for (const expected of [true, false]) {
        const group = names.filter((n) => isExpected(n, side) === expected);
        if (group.length === 0) continue;
        const show = side === "changed" ? group.map((n) => `${n} ${d.changed[n]?.a} → ${d.changed[n]?.b}`) : group.map((n) => (side === "added" ? `${n}=${d.added[n]}` : `${n}=${d.removed[n]}`));
        out.push({ aspect: d.aspect, summary: `${d.aspect} ${side}: ${show.join(", ")}`, expected });
      }
    }
    return out;
  }
  // The base image decides Python, pip and the system packages, and (a non-root base) the user.
  const expected = d.aspect === "python" || d.aspect === "pip" || d.aspect === "systemPackages" || (userChanges && d.aspect === "user");
  return [{ aspect: d.aspect, summary: describe(d), expected }];
}

/** Judges a comparison of the Dockerfile image (a) with the common build's (b). */
export function judgeComparison(comparison: ImageComparison, plan: Pick<MigrationPlan, "expectedChanges">): JudgedDifference[] {
  const dropped = new Set(plan.expectedChanges.flatMap((c) => /^env (\S+) is dropped/.exec(c)?.[1] ?? []));
  const userChanges = plan.expectedChanges.some((c) => c.startsWith("the connector runs as "));
  return comparison.differences.flatMap((d) => judge(d, dropped, userChanges));
}

/** The Dockerfile with FROM images replaced as `substitutions` says (same line, same stage name). */
export function substituteFromImages(dockerfile: string, substitutions: Readonly<Record<string, string>>): string {
  const lines = dockerfile.split("\n");
  for (const from of parseFromInstructions(dockerfile)) {
    const replacement = substitutions[from.image];
    if (from.stageReference || replacement === undefined) continue;
    const index = from.line - 1;
    lines[index] = (lines[index] ?? "").replace(from.image, replacement);
  }
  return lines.join("\n");
}

/**
 * Builds the connector from its Dockerfile (before) and, in a copy with the plan applied, with the
 * common build (after), then compares the two images and judges each difference. Writes nothing in
 * the connector folder.
 */
export async function verifyMigration(plan: MigrationPlan, options: VerifyOptions): Promise<MigrationVerification> {
  const { engine } = options;
  if (!engine.buildDockerfile) {
    return { status: "unverified", detail: `the ${engine.name} engine cannot build a Dockerfile (verification builds the "before" image on Docker: --engine docker)`, differences: [] };
  }
  if (!plan.baseImagePublished) {
    return { status: "unverified", detail: `base image ${plan.baseImageVersion} is not published: the common build cannot start from it`, differences: [] };
  }
  if (hasCredentials(options.pipIndex)) {
    return { status: "unverified", detail: "the pip index URL carries credentials, which a Dockerfile build would keep in the image's history: verify with an index without credentials", differences: [] };
  }
  const server = options.pins !== undefined && options.pins.length > 0 ? await serveText(`${options.pins.join("\n")}\n`) : undefined;
  try {
    return await verifyPinned(plan, options, server !== undefined ? { ...options.pipIndex, constraint: server.url } : options.pipIndex);
  } finally {
    await server?.close();
  }
}

async function verifyPinned(plan: MigrationPlan, options: VerifyOptions, pipIndex: PipIndexOptions | undefined): Promise<MigrationVerification> {
  const { engine } = options;
  const platform = options.platform ?? "linux/amd64";
  const progress = options.onProgress ?? (() => {});
  if (!engine.buildDockerfile) throw new Error("unreachable: checked by verifyMigration");
  const dockerfile = withStageArgs(substituteFromImages(readFileSync(join(plan.dir, "Dockerfile"), "utf8"), options.fromSubstitutions ?? {}), pipBuildArgs(pipIndex));
  let before: BuiltImage;
  try {
    progress(`${plan.connector}: building the Dockerfile (before)`);
    before = await engine.buildDockerfile({ contextDir: plan.dir, dockerfile, platform, onProgress: progress });
  } catch (error) {
    // The tool's own error lines (pip's `ERROR: …`) say why; BuildKit's summary lines only say where.
    const message = (error as Error).message;
    const why = message.split("\n").filter((l) => /\b(ERROR|Error|error):? /.test(l) && !/executor failed running|^#\d+ ERROR|^ERROR: executor/.test(l.trim())).slice(-3);
    return { status: "unverified", detail: `the Dockerfile does not build here, so there is nothing to compare with: ${[...why, lastLines(message, 6)].join("\n")}`, differences: [] };
  }
  const work = mkdtempSync(join(tmpdir(), "migrate-verify-"));
  // Removed by the CLI's interrupt cleanup too (SIGINT/SIGTERM during the builds or the comparison).
  const unregister = registerCleanup(() => rmSync(work, { recursive: true, force: true }));
  try {
    const copy = join(work, basename(plan.dir));
    cpSync(plan.dir, copy, { recursive: true });
    applyMigration(plan, copy);
    progress(`${plan.connector}: building with the common build (after)`);
    const [result] = await buildConnectors([copy], { engine, catalog: options.catalog, platforms: [platform], output: { kind: "none" }, ...(pipIndex !== undefined ? { pipIndex } : {}), onProgress: (_c, line) => progress(line) });
    const imageId = result?.platforms[0]?.imageId;
    if (result?.status !== "success" || imageId === undefined) {
      const message = result?.error?.message ?? "no image";
      return { status: "differences", differences: [{ aspect: "build", summary: `the common build fails: ${lastLines(message, 6)}`, expected: false }], before: before.ref };
    }
    const after: BuiltImage = { engine: engine.name, platform, ref: imageId };
    progress(`${plan.connector}: comparing`);
    const comparison = await compareImages(engine, before, after);
    const differences = judgeComparison(comparison, plan);
    // A connector that answers spec in neither image compares equal there; it is still broken.
    const silent = comparison.unavailable.find((u) => u.aspect === "spec");
    if (silent) differences.push({ aspect: "spec", summary: `spec: neither image answers spec (common build: ${lastLines(silent.b, 1)})`, expected: false });
    return { status: differences.some((d) => !d.expected) ? "differences" : "verified", differences, before: before.ref, after: after.ref };
  } finally {
    unregister();
    rmSync(work, { recursive: true, force: true });
  }
}
