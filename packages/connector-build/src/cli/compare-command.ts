import { parsePlatform } from "@airbyte-ci/base-images";
import { DEFAULT_IGNORED_ENV, compareImages, renderComparisonJson, renderComparisonText } from "../compare/compare-images.ts";
import type { Engine } from "../engines/engine.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { EXIT } from "../errors.ts";
import { plural } from "../shared/markdown.ts";

/** Options of {@link compareCommand}. */
export interface CompareCommandOptions {
  /** Print the comparison as JSON instead of text. */
  json?: boolean;
  /** The engine resolving and running the images (`auto`, `docker`, `dagger`); tests may pass an engine. Default `docker`. */
  engine?: EngineChoice | Engine;
  /** More environment variables to ignore, besides HOSTNAME, TRACEPARENT and OTEL_TRACE_PARENT. */
  ignoreEnv?: string[];
  /** Platform pulled when an image is not in the local Docker (default linux/amd64). */
  platform?: string;
}

/**
 * `connector-build compare <image-a> <image-b>`: prints the behavioural diff of two images and
 * returns the exit code: 0 when they are identical, 1 when they differ (the differing aspects are
 * named on stderr). That they differ is an outcome, not an error; an image that cannot be found is
 * an error (USAGE, exit 2).
 */
export async function compareCommand(imageA: string, imageB: string, opts: CompareCommandOptions = {}): Promise<number> {
  const choice = opts.engine ?? "docker";
  const pullPlatform = opts.platform !== undefined ? parsePlatform(opts.platform, "--platform") : undefined;
  const ignoreEnv = { ...DEFAULT_IGNORED_ENV, ...Object.fromEntries((opts.ignoreEnv ?? []).map((n) => [n, "ignored by --ignore-env"])) };
  const engine = typeof choice === "string" ? await selectEngine(choice) : choice;
  try {
    const comparison = await compareImages(engine, imageA, imageB, { ignoreEnv, ...(pullPlatform ? { pullPlatform } : {}) });
    process.stdout.write(opts.json ? renderComparisonJson(comparison) : renderComparisonText(comparison));
    if (comparison.identical) return EXIT.ok;
    const aspects = [...new Set(comparison.differences.map((d) => d.aspect))];
    process.stderr.write(`connector-build: ${imageA} and ${imageB} differ in ${plural(aspects.length, "aspect")}: ${aspects.join(", ")}\n`);
    return EXIT.failure;
  } finally {
    if (typeof choice === "string") await engine.close();
  }
}
