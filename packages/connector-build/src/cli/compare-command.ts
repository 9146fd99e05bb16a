import { parsePlatform } from "@airbyte-ci/base-images";
import { DEFAULT_IGNORED_ENV, compareImages, renderComparisonJson, renderComparisonText } from "../compare/compare-images.ts";
import type { Engine } from "../engines/engine.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError } from "../errors.ts";

/** Options of {@link compareCommand}. */
export interface CompareCommandOptions {
  /** Print the comparison as JSON instead of text. */
  json?: boolean;
  /**
   * The engine running the images. References are resolved in the local Docker, so only Docker
   * fits: `auto` and `docker` mean Docker, `dagger` is refused. Tests may pass an engine.
   */
  engine?: EngineChoice | Engine;
  /** More environment variables to ignore, besides HOSTNAME, TRACEPARENT and OTEL_TRACE_PARENT. */
  ignoreEnv?: string[];
  /** Platform pulled when an image is not in the local Docker (default linux/amd64). */
  platform?: string;
}

/**
 * `connector-build compare <image-a> <image-b>`: prints the behavioural diff of two images.
 * Exit 0 when they are identical; when they differ the diff is printed and a VERIFICATION_FAILED
 * error (exit 1) names the differing aspects; an image that cannot be found is exit 2.
 */
export async function compareCommand(imageA: string, imageB: string, opts: CompareCommandOptions = {}): Promise<void> {
  const choice = opts.engine ?? "docker";
  if (choice === "dagger") {
    throw new ConnectorBuildError("USAGE", "compare: --engine dagger: image references are resolved in the local Docker: use --engine docker");
  }
  const pullPlatform = opts.platform !== undefined ? parsePlatform(opts.platform, "--platform") : undefined;
  const ignoreEnv = { ...DEFAULT_IGNORED_ENV, ...Object.fromEntries((opts.ignoreEnv ?? []).map((n) => [n, "ignored by --ignore-env"])) };
  const engine = typeof choice === "string" ? await selectEngine("docker") : choice;
  try {
    const comparison = await compareImages(engine, imageA, imageB, { ignoreEnv, ...(pullPlatform ? { pullPlatform } : {}) });
    process.stdout.write(opts.json ? renderComparisonJson(comparison) : renderComparisonText(comparison));
    if (!comparison.identical) {
      const aspects = [...new Set(comparison.differences.map((d) => d.aspect))];
      throw new ConnectorBuildError(
        "VERIFICATION_FAILED",
        `${imageA} and ${imageB} differ in ${aspects.length} aspect${aspects.length === 1 ? "" : "s"}: ${aspects.join(", ")}`,
      );
    }
  } finally {
    if (typeof choice === "string") await engine.close();
  }
}
