import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import type { BenchConfig } from "./config.ts";
import type { Target } from "./target.ts";

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const PACKAGE_DIR = resolve(BENCH_DIR, "..");
export const REPO_ROOT = resolve(PACKAGE_DIR, "../..");
/** The platform every experiment builds. */
export const PLATFORM: Platform = "linux/amd64";

export const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

/** What every experiment is given: settings, a temporary folder, the local catalog and the images it must remove. */
export interface BenchContext {
  readonly config: BenchConfig;
  /** Temporary folder of this run (removed at the end unless BENCH_KEEP_WORK). */
  readonly work: string;
  readonly catalog: BaseImageCatalog;
  /** The local catalog's published 1.0.0, by digest. */
  readonly baseImage: string;
  /** The fixture root image, by digest. */
  readonly rootImage: string;
  /** The loopback PyPI proxy (AIRBYTE_CI_PIP_INDEX_URL, else .local/env/pip-index-url). */
  readonly pipIndexUrl: string;
  /** When the run started, for unique registry paths. */
  readonly startedAt: Date;
  /** Image ids and tags to remove at the end (unless BENCH_KEEP_IMAGES). */
  readonly images: string[];
  /** Registers a cleanup run at the end or on an interrupt, last registered first. */
  readonly onCleanup: (what: string, fn: () => Promise<void> | void) => void;
}

/** One experiment: runs on its own (`pnpm bench -- --only <id>`), reports itself and evaluates its targets. */
export interface Experiment<R> {
  readonly id: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<R>;
  /** Lines of the printed report. */
  report(result: R, config: BenchConfig): string[];
  targets(result: R): Target[];
}
