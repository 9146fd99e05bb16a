import {
  describeExpectation,
  evaluateSanityCheck,
  sanityCheckArgv,
  type BaseImageVersion,
  type Platform,
  type SanityCheck,
} from "@airbyte-ci/base-images";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { createLimiter } from "../shared/pool.ts";

/** The outcome of one sanity check on one platform. */
export interface SanityCheckResult {
  readonly platform: Platform;
  readonly check: string;
  readonly passed: boolean;
  /** What the check expects. */
  readonly expected: string;
  /** What was seen in the image. */
  readonly seen: string;
}

/** A report over every check and every platform. */
export interface SanityReport {
  readonly version: string;
  readonly passed: boolean;
  readonly results: readonly SanityCheckResult[];
}

/** Checks run at once in one image by default: each is its own short container, mostly engine latency. */
export const SANITY_CHECK_CONCURRENCY = 4;

/**
 * Runs checks in one built image and reports each, in the checks' order (never throws on a failing
 * check). Up to `concurrency` check containers run at once (default {@link SANITY_CHECK_CONCURRENCY}).
 */
export async function runSanityChecks(
  engine: Engine,
  image: BuiltImage,
  checks: readonly SanityCheck[],
  options: { concurrency?: number } = {},
): Promise<SanityCheckResult[]> {
  const config = checks.some((c) => c.kind === "label") ? await engine.inspect(image) : undefined;
  const limit = createLimiter(options.concurrency ?? SANITY_CHECK_CONCURRENCY);
  return Promise.all(
    checks.map((check) =>
      limit(async (): Promise<SanityCheckResult> => {
        const argv = sanityCheckArgv(check);
        let observed;
        if (argv) {
          const run = await engine.run(image, argv);
          observed = { exitCode: run.exitCode, stdout: run.stdout };
        } else {
          observed = { labelValue: check.kind === "label" ? config?.labels[check.label] : undefined };
        }
        const { passed, seen } = evaluateSanityCheck(check, observed);
        return { platform: image.platform, check: check.name, passed, expected: describeExpectation(check), seen };
      }),
    ),
  );
}

/** Runs a version's checks on the images built for each of its platforms. */
export async function checkBaseImage(
  engine: Engine,
  version: BaseImageVersion,
  images: readonly BuiltImage[],
): Promise<SanityReport> {
  const results: SanityCheckResult[] = [];
  for (const image of images) results.push(...(await runSanityChecks(engine, image, version.sanityChecks)));
  return { version: version.version, passed: results.every((r) => r.passed), results };
}

/** Renders a report as lines a person reads: one per check, failures with expected vs seen. */
export function formatSanityReport(report: SanityReport): string {
  const lines = report.results.map((r) =>
    r.passed ? `  ✓ [${r.platform}] ${r.check}` : `  ✗ [${r.platform}] ${r.check}: expected ${r.expected}, saw ${r.seen}`,
  );
  const failed = report.results.filter((r) => !r.passed).length;
  lines.push(
    failed === 0
      ? `${report.results.length} sanity checks passed for base image ${report.version}`
      : `${failed} of ${report.results.length} sanity checks failed for base image ${report.version}`,
  );
  return lines.join("\n");
}
