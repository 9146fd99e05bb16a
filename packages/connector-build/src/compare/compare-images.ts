import type { Engine } from "../engines/engine.ts";
import { snapshotImage, type ImageSnapshot, type Probe } from "../inspect/image-probes.ts";
import { resolveImageInput, type ImageInput, type ResolveOptions } from "../inspect/resolve-input.ts";

export type { ImageInput } from "../inspect/resolve-input.ts";
import { jsonDiff, type JsonChange } from "./json-diff.ts";

/** The aspects of an image {@link compareImages} compares, in report order. */
export const COMPARED_ASPECTS = [
  "platform",
  "env",
  "entrypoint",
  "cmd",
  "workdir",
  "user",
  "labels",
  "python",
  "pip",
  "systemPackages",
  "pythonDistributions",
  "spec",
] as const;

/** One aspect of an image. */
export type ComparedAspect = (typeof COMPARED_ASPECTS)[number];

/** The aspects read by running something in the image: an image may fail to answer them. */
export type ProbedAspect = "env" | "python" | "pip" | "systemPackages" | "pythonDistributions" | "spec";

/**
 * Environment variables a comparison ignores by default, and why: they differ between two runs, or
 * two builds, of the very same image and say nothing about its behaviour.
 */
export const DEFAULT_IGNORED_ENV: Readonly<Record<string, string>> = Object.freeze({
  HOSTNAME: "set by the container runtime to the container id, different on every run",
  TRACEPARENT: "W3C trace context the build engine writes at build time, different on every build: the seed found one value per image",
  OTEL_TRACE_PARENT: "OpenTelemetry trace parent the build engine writes at build time, different on every build",
});

/** Added, removed and changed entries of a name → value map (`added`: in B only; `removed`: in A only). */
export interface EntriesDiff {
  readonly added: Readonly<Record<string, string>>;
  readonly removed: Readonly<Record<string, string>>;
  readonly changed: Readonly<Record<string, { readonly a: string; readonly b: string }>>;
}

/** One difference between image A and image B. */
export type ImageDifference =
  | { readonly aspect: "platform" | "workdir" | "user" | "python" | "pip"; readonly kind: "changed"; readonly a: string; readonly b: string }
  | { readonly aspect: "entrypoint" | "cmd"; readonly kind: "changed"; readonly a: readonly string[]; readonly b: readonly string[] }
  /** env: name → value; labels: name → value; pythonDistributions: normalised name → version. */
  | ({ readonly aspect: "env" | "labels" | "pythonDistributions"; readonly kind: "entries" } & EntriesDiff)
  /** name → version; `managers` only when the two images use different package managers. */
  | ({
      readonly aspect: "systemPackages";
      readonly kind: "entries";
      readonly managers?: { readonly a: string; readonly b: string };
    } & EntriesDiff)
  /** The SPEC messages differ: structural changes, at JSON Pointer paths into the message. */
  | { readonly aspect: "spec"; readonly kind: "json"; readonly changes: readonly JsonChange[] }
  /** One image answered the probe, the other did not (`detail` says why). */
  | { readonly aspect: ProbedAspect; readonly kind: "unavailable"; readonly in: "a" | "b"; readonly detail: string };

/** An image of a comparison. */
export interface ComparedImage {
  /** The reference as given. */
  readonly reference: string;
  /** The image id (Docker) or engine reference the probes ran on. */
  readonly id: string;
  readonly platform: string;
}

/** What {@link compareImages} found. */
export interface ImageComparison {
  readonly a: ComparedImage;
  readonly b: ComparedImage;
  /** True when no aspect differs. Aspects neither image answered (see `unavailable`) do not count. */
  readonly identical: boolean;
  /** Differences, in the order of {@link COMPARED_ASPECTS}; at most one entry per aspect. */
  readonly differences: readonly ImageDifference[];
  /** Aspects neither image answered (so they were not compared), with each image's reason. */
  readonly unavailable: ReadonlyArray<{ readonly aspect: ProbedAspect; readonly a: string; readonly b: string }>;
  /** Environment variables that were not compared, with why. */
  readonly ignoredEnv: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/** Options of {@link compareImages}. */
export interface CompareOptions extends ResolveOptions {
  /**
   * Environment variables not compared, replacing {@link DEFAULT_IGNORED_ENV}: either names, or
   * names with the reason shown in the report.
   */
  readonly ignoreEnv?: readonly string[] | Readonly<Record<string, string>>;
}

function sortedRecord<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** Added/removed/changed entries from `a` to `b`, keys sorted. */
export function diffEntries(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): EntriesDiff {
  const added: Array<[string, string]> = [];
  const removed: Array<[string, string]> = [];
  const changed: Array<[string, { a: string; b: string }]> = [];
  for (const [k, v] of Object.entries(a)) {
    if (!Object.hasOwn(b, k)) removed.push([k, v]);
    else if (b[k] !== v) changed.push([k, { a: v, b: b[k] as string }]);
  }
  for (const [k, v] of Object.entries(b)) if (!Object.hasOwn(a, k)) added.push([k, v]);
  return { added: sortedRecord(added), removed: sortedRecord(removed), changed: sortedRecord(changed) };
}

function isEmpty(diff: EntriesDiff): boolean {
  return Object.keys(diff.added).length + Object.keys(diff.removed).length + Object.keys(diff.changed).length === 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function ignoredEnvList(option: CompareOptions["ignoreEnv"]): Array<{ name: string; reason: string }> {
  if (option === undefined) return Object.entries(DEFAULT_IGNORED_ENV).map(([name, reason]) => ({ name, reason }));
  if (Array.isArray(option)) return (option as readonly string[]).map((name) => ({ name, reason: DEFAULT_IGNORED_ENV[name] ?? "ignored by request" }));
  return Object.entries(option as Record<string, string>).map(([name, reason]) => ({ name, reason }));
}

/**
 * Compares two snapshots (see {@link snapshotImage}); {@link compareImages} takes images instead.
 */
export function compareSnapshots(a: ImageSnapshot, b: ImageSnapshot, options: Pick<CompareOptions, "ignoreEnv"> = {}): ImageComparison {
  const differences: ImageDifference[] = [];
  const unavailable: Array<{ aspect: ProbedAspect; a: string; b: string }> = [];
  const ignoredEnv = ignoredEnvList(options.ignoreEnv);
  const ignored = new Set(ignoredEnv.map((i) => i.name));

  /** Compares a probed aspect: availability first, then values with `compare`. */
  const probed = <T>(aspect: ProbedAspect, pa: Probe<T>, pb: Probe<T>, compare: (x: T, y: T) => ImageDifference | undefined) => {
    if (!pa.ok && !pb.ok) unavailable.push({ aspect, a: pa.detail, b: pb.detail });
    else if (!pa.ok) differences.push({ aspect, kind: "unavailable", in: "a", detail: pa.detail });
    else if (!pb.ok) differences.push({ aspect, kind: "unavailable", in: "b", detail: pb.detail });
    else {
      const d = compare(pa.value, pb.value);
      if (d) differences.push(d);
    }
  };
  const scalar = (aspect: "platform" | "workdir" | "user" | "python" | "pip", x: string, y: string): ImageDifference | undefined =>
    x === y ? undefined : { aspect, kind: "changed", a: x, b: y };

  const ca = a.config;
  const cb = b.config;
  const platformDiff = scalar("platform", `${ca.os}/${ca.architecture}`, `${cb.os}/${cb.architecture}`);
  if (platformDiff) differences.push(platformDiff);

  probed("env", a.env, b.env, (x, y) => {
    const keep = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([k]) => !ignored.has(k)));
    const diff = diffEntries(keep(x), keep(y));
    return isEmpty(diff) ? undefined : { aspect: "env", kind: "entries", ...diff };
  });
  for (const aspect of ["entrypoint", "cmd"] as const) {
    if (!sameList(ca[aspect], cb[aspect])) differences.push({ aspect, kind: "changed", a: [...ca[aspect]], b: [...cb[aspect]] });
  }
  const workdir = scalar("workdir", ca.workdir, cb.workdir);
  if (workdir) differences.push(workdir);
  const user = scalar("user", ca.user, cb.user);
  if (user) differences.push(user);
  const labels = diffEntries(ca.labels, cb.labels);
  if (!isEmpty(labels)) differences.push({ aspect: "labels", kind: "entries", ...labels });

  probed("python", a.python, b.python, (x, y) => scalar("python", x, y));
  probed("pip", a.pip, b.pip, (x, y) => scalar("pip", x, y));
  probed("systemPackages", a.systemPackages, b.systemPackages, (x, y) => {
    const diff = diffEntries(x.packages, y.packages);
    if (isEmpty(diff) && x.manager === y.manager) return undefined;
    return { aspect: "systemPackages", kind: "entries", ...(x.manager !== y.manager ? { managers: { a: x.manager, b: y.manager } } : {}), ...diff };
  });
  probed("pythonDistributions", a.pythonDistributions, b.pythonDistributions, (x, y) => {
    const versions = (d: typeof x) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.version]));
    const diff = diffEntries(versions(x), versions(y));
    return isEmpty(diff) ? undefined : { aspect: "pythonDistributions", kind: "entries", ...diff };
  });
  probed("spec", a.spec, b.spec, (x, y) => {
    const changes = jsonDiff(x, y);
    return changes.length === 0 ? undefined : { aspect: "spec", kind: "json", changes };
  });

  const order = (d: ImageDifference) => COMPARED_ASPECTS.indexOf(d.aspect);
  differences.sort((x, y) => order(x) - order(y));
  const image = (s: ImageSnapshot): ComparedImage => ({ reference: s.resolved.reference, id: s.resolved.id, platform: s.resolved.image.platform });
  return { a: image(a), b: image(b), identical: differences.length === 0, differences, unavailable, ignoredEnv };
}

/**
 * Compares two images by behaviour: the environment a process sees (`printenv`, minus
 * {@link DEFAULT_IGNORED_ENV}), entrypoint, cmd, workdir, user, labels, platform, the Python and pip
 * versions, the installed system packages (dpkg or apk) and Python distributions, and the `spec`
 * message answered through the entrypoint (compared structurally).
 *
 * Images are given by reference (`repo:tag`, `registry/repo@sha256:…`, an image id: resolved in the
 * local Docker, pulled when absent, their platform read from the image) or as engine-built images.
 * An aspect one image cannot answer (no python, no spec…) is a difference; one neither image
 * answers is listed in `unavailable` and does not make the images different.
 *
 * @throws ConnectorBuildError `USAGE` when a reference cannot be resolved.
 */
export async function compareImages(engine: Engine, imageA: ImageInput, imageB: ImageInput, options: CompareOptions = {}): Promise<ImageComparison> {
  const [ra, rb] = await Promise.all([resolveImageInput(engine, imageA, options), resolveImageInput(engine, imageB, options)]);
  const [sa, sb] = await Promise.all([snapshotImage(engine, ra), snapshotImage(engine, rb)]);
  return compareSnapshots(sa, sb, options);
}

// ---------------------------------------------------------------------------------------------
// Renderers

/** A value on one line: as is when printable, else as a JSON string. */
function show(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(value) || value !== value.trim() || value === "" ? JSON.stringify(value) : value;
}

function showJson(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const ASPECT_TITLES: Record<ComparedAspect, string> = {
  platform: "platform",
  env: "environment variables",
  entrypoint: "entrypoint",
  cmd: "cmd",
  workdir: "workdir",
  user: "user",
  labels: "labels",
  python: "Python version",
  pip: "pip version",
  systemPackages: "system packages",
  pythonDistributions: "Python distributions",
  spec: "spec",
};

function renderDifference(d: ImageDifference): string[] {
  const out: string[] = [`${ASPECT_TITLES[d.aspect]}:`];
  switch (d.kind) {
    case "changed":
      if (Array.isArray(d.a)) out.push(`  a: ${JSON.stringify(d.a)}`, `  b: ${JSON.stringify(d.b)}`);
      else out.push(`  a: ${show(d.a as string)}`, `  b: ${show(d.b as string)}`);
      break;
    case "entries": {
      const sep = d.aspect === "env" || d.aspect === "labels" ? "=" : " ";
      if (d.aspect === "systemPackages" && d.managers) out.push(`  package manager: ${d.managers.a} → ${d.managers.b}`);
      for (const [k, v] of Object.entries(d.removed)) out.push(`  - ${k}${sep}${show(v)}`);
      for (const [k, v] of Object.entries(d.added)) out.push(`  + ${k}${sep}${show(v)}`);
      for (const [k, v] of Object.entries(d.changed)) out.push(`  ~ ${k}: ${show(v.a)} → ${show(v.b)}`);
      break;
    }
    case "json":
      for (const c of d.changes) {
        const at = c.path === "" ? "(whole message)" : c.path;
        if (c.kind === "removed") out.push(`  - ${at}: ${showJson(c.a)}`);
        else if (c.kind === "added") out.push(`  + ${at}: ${showJson(c.b)}`);
        else out.push(`  ~ ${at}: ${showJson(c.a)} → ${showJson(c.b)}`);
      }
      break;
    case "unavailable":
      out.push(`  image ${d.in} did not answer: ${d.detail}`, `  image ${d.in === "a" ? "b" : "a"} did`);
      break;
  }
  return out;
}

/**
 * Renders a comparison for a terminal: the two images, then per differing aspect `- name` (only in
 * A), `+ name` (only in B), `~ name: a → b`, or A's and B's values; then what was not compared.
 */
export function renderComparisonText(comparison: ImageComparison): string {
  const img = (label: string, i: ComparedImage) =>
    `${label}: ${i.reference}${i.id !== i.reference ? ` (${i.id.replace(/^sha256:/, "").slice(0, 12)})` : ""} ${i.platform}`;
  const out = [img("a", comparison.a), img("b", comparison.b), ""];
  const compared = COMPARED_ASPECTS.filter((a) => !comparison.unavailable.some((u) => u.aspect === a));
  if (comparison.identical) {
    out.push(`identical: no difference in ${compared.map((a) => ASPECT_TITLES[a]).join(", ")}`);
  } else {
    const aspects = comparison.differences.map((d) => ASPECT_TITLES[d.aspect]);
    out.push(`different: ${aspects.length} aspect${aspects.length === 1 ? "" : "s"} differ (${aspects.join(", ")})`, "");
    for (const d of comparison.differences) out.push(...renderDifference(d));
  }
  if (comparison.unavailable.length > 0) {
    out.push("", "not compared (neither image answered):");
    for (const u of comparison.unavailable) out.push(`  ${ASPECT_TITLES[u.aspect]}: a: ${u.a}; b: ${u.b}`);
  }
  if (comparison.ignoredEnv.length > 0) {
    out.push("", "ignored environment variables:", ...comparison.ignoredEnv.map((i) => `  ${i.name}: ${i.reason}`));
  }
  return `${out.join("\n")}\n`;
}

/** The comparison as JSON (2-space indented, with a final newline). */
export function renderComparisonJson(comparison: ImageComparison): string {
  return `${JSON.stringify(comparison, null, 2)}\n`;
}
