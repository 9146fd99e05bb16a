import { cell as markdownCell, code, plural } from "../shared/markdown.ts";
import { listSystemPackages, readRuntimeEnv } from "../inspect/image-probes.ts";
import { resolveImageInput, type ResolveOptions } from "../inspect/resolve-input.ts";
import type { Engine } from "../engines/engine.ts";
import { createLimiter } from "../shared/pool.ts";

/**
 * Environment variables {@link analyzeImages} leaves out of its tables by default: HOSTNAME is set by
 * the container runtime to the container id, so it would be "the same key with a different value"
 * in every image. TRACEPARENT and OTEL_TRACE_PARENT are kept: the seed looked at them on purpose
 * (its conclusion: verify the build still sets them).
 */
export const DEFAULT_ANALYSIS_IGNORED_ENV: readonly string[] = Object.freeze(["HOSTNAME"]);

/** Options of {@link analyzeImages}. */
export interface ImageAnalysisOptions extends ResolveOptions {
  /** Environment variables left out of the tables. Default {@link DEFAULT_ANALYSIS_IGNORED_ENV}. */
  readonly ignoreEnv?: readonly string[];
  /** Images inspected at once. Default 4. */
  readonly concurrency?: number;
  /** Receives one line per image inspected, for stderr. */
  readonly onProgress?: (line: string) => void;
}

/** An image of the analysis, as resolved. */
export interface AnalyzedImage {
  /** The reference as given. */
  readonly reference: string;
  /** Local image id; absent when the image could not be resolved. */
  readonly id?: string;
  readonly platform?: string;
  /** `dpkg` or `apk`; absent when the packages could not be listed. */
  readonly packageManager?: "dpkg" | "apk";
  /** Number of installed system packages. */
  readonly packageCount?: number;
  /** Number of environment variables read (before ignoring any). */
  readonly envCount?: number;
}

/** Something that could not be read; the image is left out of the tables that need it. */
export interface ImageAnalysisProblem {
  readonly image: string;
  readonly role: "image" | "base image";
  readonly aspect: "image" | "env" | "systemPackages";
  readonly message: string;
}

/** The seed's three environment tables, over the images whose environment could be read. */
export interface EnvTables {
  /** Present in every image with the same value (the seed's `common_env_var_values`). Sorted by name. */
  readonly common: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** Present in every image, with different values: the distinct values (sorted) and each image's. */
  readonly differentValues: ReadonlyArray<{
    readonly name: string;
    readonly values: readonly string[];
    readonly byImage: Readonly<Record<string, string>>;
  }>;
  /** Present in some images only (the seed's "connector specific env var"): each holder's value. */
  readonly imageSpecific: ReadonlyArray<{ readonly name: string; readonly byImage: Readonly<Record<string, string>> }>;
}

/** What {@link analyzeImages} found. */
export interface ImageAnalysisReport {
  readonly images: readonly AnalyzedImage[];
  readonly baseImages: readonly AnalyzedImage[];
  /** Environment variables left out of the tables. */
  readonly ignoredEnv: readonly string[];
  readonly env: EnvTables;
  readonly systemPackages: {
    /** Base images whose packages make up the union subtracted (those that could be listed). */
    readonly comparedTo: readonly string[];
    /** Size of that union. */
    readonly basePackageCount: number;
    /**
     * Per image, the packages it has beyond the union of the base images' packages (the seed's
     * `custom_pkgs = connector_pkgs - base_pkgs`, names only), sorted; `null` when the image's
     * packages could not be listed or no base image could be.
     */
    readonly added: ReadonlyArray<{ readonly image: string; readonly packages: readonly string[] | null }>;
  };
  readonly problems: readonly ImageAnalysisProblem[];
}

interface Read {
  image: AnalyzedImage;
  env?: Record<string, string>;
  packages?: Set<string>;
  problems: ImageAnalysisProblem[];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readImage(
  engine: Engine,
  reference: string,
  role: ImageAnalysisProblem["role"],
  wantEnv: boolean,
  options: ImageAnalysisOptions,
): Promise<Read> {
  let resolved;
  try {
    resolved = await resolveImageInput(engine, reference, options);
  } catch (error) {
    return { image: { reference }, problems: [{ image: reference, role, aspect: "image", message: (error as Error).message }] };
  }
  const [env, packages] = await Promise.all([
    wantEnv ? readRuntimeEnv(engine, resolved.image) : Promise.resolve(undefined),
    listSystemPackages(engine, resolved.image),
  ]);
  const problems: ImageAnalysisProblem[] = [];
  if (env && !env.ok) problems.push({ image: reference, role, aspect: "env", message: env.detail });
  if (!packages.ok) problems.push({ image: reference, role, aspect: "systemPackages", message: packages.detail });
  return {
    image: {
      reference,
      id: resolved.id,
      platform: resolved.image.platform,
      ...(packages.ok ? { packageManager: packages.value.manager, packageCount: Object.keys(packages.value.packages).length } : {}),
      ...(env?.ok ? { envCount: Object.keys(env.value).length } : {}),
    },
    ...(env?.ok ? { env: env.value } : {}),
    ...(packages.ok ? { packages: new Set(Object.keys(packages.value.packages)) } : {}),
    problems,
  };
}

/** The seed's three tables from each image's environment (reference → name → value). */
export function envTables(envs: ReadonlyMap<string, Readonly<Record<string, string>>>): EnvTables {
  const images = [...envs.keys()];
  const names = new Set<string>();
  for (const env of envs.values()) for (const name of Object.keys(env)) names.add(name);
  const common: Array<{ name: string; value: string }> = [];
  const differentValues: Array<{ name: string; values: string[]; byImage: Record<string, string> }> = [];
  const imageSpecific: Array<{ name: string; byImage: Record<string, string> }> = [];
  for (const name of [...names].sort(compare)) {
    const byImage: Record<string, string> = {};
    for (const image of images) {
      const env = envs.get(image) as Readonly<Record<string, string>>;
      if (Object.hasOwn(env, name)) byImage[image] = env[name] as string;
    }
    const values = [...new Set(Object.values(byImage))].sort(compare);
    if (Object.keys(byImage).length < images.length) imageSpecific.push({ name, byImage });
    else if (values.length === 1) common.push({ name, value: values[0] as string });
    else differentValues.push({ name, values, byImage });
  }
  return { common, differentValues, imageSpecific };
}

/**
 * The seed's image analysis, for `analyze --images`: in each image, `printenv` (run without the
 * entrypoint) and the system package lister (dpkg, or apk on Alpine). Reports
 *
 * - the environment tables over `images`: variables with the same value everywhere, the same name
 *   with different values (with the set of values), and image-specific ones;
 * - per image, the system packages it adds over the union of the `baseImages`' packages (the
 *   seed's `custom_pkgs = connector_pkgs - base_pkgs`).
 *
 * `printenv` values may contain `=`: each entry is split on its first `=` (the seed's
 * `k, v = line.split("=")` would have raised on such a value).
 *
 * An image that cannot be resolved or read is reported in `problems` and left out of the tables
 * that need what is missing; nothing is thrown for an image's sake.
 */
export async function analyzeImages(
  engine: Engine,
  images: readonly string[],
  baseImages: readonly string[],
  options: ImageAnalysisOptions = {},
): Promise<ImageAnalysisReport> {
  const ignoreEnv = [...(options.ignoreEnv ?? DEFAULT_ANALYSIS_IGNORED_ENV)];
  const ignored = new Set(ignoreEnv);
  const limit = createLimiter(options.concurrency ?? 4);
  const uniqueImages = [...new Set(images)];
  const uniqueBases = [...new Set(baseImages)];
  const read = (reference: string, role: ImageAnalysisProblem["role"]) =>
    limit(async () => {
      options.onProgress?.(`inspecting ${role} ${reference}`);
      return readImage(engine, reference, role, role === "image", options);
    });
  const [imageReads, baseReads] = await Promise.all([
    Promise.all(uniqueImages.map((r) => read(r, "image"))),
    Promise.all(uniqueBases.map((r) => read(r, "base image"))),
  ]);

  const envs = new Map<string, Record<string, string>>();
  for (const r of imageReads) {
    if (r.env) envs.set(r.image.reference, Object.fromEntries(Object.entries(r.env).filter(([k]) => !ignored.has(k))));
  }

  const basePackages = new Set<string>();
  const comparedTo: string[] = [];
  for (const r of baseReads) {
    if (!r.packages) continue;
    comparedTo.push(r.image.reference);
    for (const p of r.packages) basePackages.add(p);
  }
  const added = imageReads.map((r) => ({
    image: r.image.reference,
    packages: r.packages && comparedTo.length > 0 ? [...r.packages].filter((p) => !basePackages.has(p)).sort(compare) : null,
  }));

  return {
    images: imageReads.map((r) => r.image),
    baseImages: baseReads.map((r) => r.image),
    ignoredEnv: ignoreEnv,
    env: envTables(envs),
    systemPackages: { comparedTo, basePackageCount: basePackages.size, added },
    problems: [...imageReads, ...baseReads].flatMap((r) => r.problems),
  };
}

// ---------------------------------------------------------------------------------------------
// Renderers

const cell = (text: string) => markdownCell(text, "<br>");

/**
 * Renders an image analysis as Markdown: the images, the three environment tables, the packages
 * each image adds over its base images, and problems. `headingLevel` is that of the title (2 to
 * append it to the repository analysis).
 */
export function renderImageAnalysisMarkdown(report: ImageAnalysisReport, options: { headingLevel?: number } = {}): string {
  const h = (level: number) => "#".repeat(Math.min(6, (options.headingLevel ?? 1) + level));
  const out: string[] = [`${h(0)} Connector images`, ""];
  const describe = (i: AnalyzedImage) =>
    `- ${code(i.reference)}${i.id ? ` (${i.id.replace(/^sha256:/, "").slice(0, 12)}, ${i.platform}${i.packageManager ? `, ${plural(i.packageCount ?? 0, `${i.packageManager} package`)}` : ""})` : " (not read)"}`;
  out.push(`${plural(report.images.length, "image")} analysed:`, "", ...report.images.map(describe), "");
  if (report.baseImages.length > 0) out.push(`${plural(report.baseImages.length, "base image")}:`, "", ...report.baseImages.map(describe), "");

  out.push(`${h(1)} Environment variables`, "");
  if (report.ignoredEnv.length > 0) out.push(`Left out of the tables: ${report.ignoredEnv.map(code).join(", ")}${report.ignoredEnv.includes("HOSTNAME") ? " (HOSTNAME is the container id, different on every run)" : ""}.`, "");
  out.push(`${h(2)} Same value in every image (${report.env.common.length})`, "");
  if (report.env.common.length === 0) out.push("None.", "");
  else out.push("| Env var name | Env var value |", "| --- | --- |", ...report.env.common.map((e) => `| ${cell(code(e.name))} | ${cell(code(e.value))} |`), "");
  out.push(`${h(2)} Same name, different values (${report.env.differentValues.length})`, "");
  if (report.env.differentValues.length === 0) out.push("None.", "");
  else {
    out.push("| Env var name | Values | Images |", "| --- | --- | --- |");
    for (const e of report.env.differentValues) {
      const holders = e.values.map((v) => Object.entries(e.byImage).filter(([, x]) => x === v).map(([i]) => i));
      out.push(`| ${cell(code(e.name))} | ${e.values.map((v) => cell(code(v))).join("<br>")} | ${holders.map((h) => cell(h.join(", "))).join("<br>")} |`);
    }
    out.push("");
  }
  out.push(`${h(2)} Image-specific (${report.env.imageSpecific.length})`, "");
  if (report.env.imageSpecific.length === 0) out.push("None.", "");
  else {
    out.push("| Env var name | Image | Value |", "| --- | --- | --- |");
    for (const e of report.env.imageSpecific) {
      for (const [image, value] of Object.entries(e.byImage)) out.push(`| ${cell(code(e.name))} | ${cell(image)} | ${cell(code(value))} |`);
    }
    out.push("");
  }

  out.push(`${h(1)} System packages added over the base images`, "");
  if (report.systemPackages.comparedTo.length === 0) {
    out.push("Not computed: no base image's packages could be listed.", "");
  } else {
    out.push(
      `Compared with the union of the packages of ${report.systemPackages.comparedTo.map(code).join(", ")} (${plural(report.systemPackages.basePackageCount, "package")}).`,
      "",
      "| Image | Packages added |",
      "| --- | --- |",
    );
    for (const a of report.systemPackages.added) {
      const packages = a.packages === null ? "(not listed)" : a.packages.length === 0 ? "none" : a.packages.map(code).join(", ");
      out.push(`| ${cell(code(a.image))} | ${cell(packages)} |`);
    }
    out.push("");
  }

  if (report.problems.length > 0) {
    out.push(`${h(1)} Problems`, "");
    for (const p of report.problems) out.push(`- ${p.role} ${code(p.image)} (${p.aspect}): ${p.message.replace(/\r?\n/g, " ")}`);
    out.push("");
  }
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

/** The image analysis as JSON (2-space indented, with a final newline). */
export function renderImageAnalysisJson(report: ImageAnalysisReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
