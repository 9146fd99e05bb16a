import { parsePlatform } from "@airbyte-ci/base-images";
import { analyzeRepository, type DockerfileAnalysisReport } from "../analyze/analyze.ts";
import { analyzeImages, renderImageAnalysisMarkdown, type ImageAnalysisReport } from "../analyze/image-analysis.ts";
import { renderAnalysisMarkdown } from "../analyze/markdown.ts";
import type { Engine } from "../engines/engine.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError, EXIT } from "../errors.ts";
import { plural } from "../shared/markdown.ts";

/** Options of {@link analyzeCommand}. */
export interface AnalyzeCommandOptions {
  /** Languages to select, comma-separated or repeated (default python, low-code). */
  language?: string | string[];
  /** Support levels to select, comma-separated or repeated (default certified). */
  supportLevel?: string | string[];
  /** Print the repository report as one JSON document (`{selected, variants, ...}`), with `images` added when analysed. */
  json?: boolean;
  /** Print Markdown (the default). */
  markdown?: boolean;
  /** `true`: analyse each variant's example image; a list: analyse these references too. */
  images?: boolean | string[];
  /** Images by reference (`--image <ref>`, repeatable); implies the image analysis. */
  image?: string[];
  /** Base images whose packages are subtracted (default: the `FROM` images of the variants). */
  baseImage?: string[];
  /** Engine resolving and running the images (`auto`, `docker`, `dagger`; default `docker`). Tests may pass an engine. */
  engine?: EngineChoice | Engine;
  /** Platform pulled when an image is not in the local Docker (default linux/amd64). */
  platform?: string;
}

function list(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  return items;
}

/**
 * `connector-build analyze [root]`: the seed's Dockerfile variant analysis of a repository, and with
 * `--images`/`--image` its image analysis (environment tables, packages added over the base
 * images). Markdown on stdout by default, `--json` for JSON. Exit 1 (ANALYZE_FAILED) after printing
 * the report when an image could not be resolved or read.
 */
export async function analyzeCommand(root: string | undefined, opts: AnalyzeCommandOptions = {}): Promise<number> {
  if (opts.json && opts.markdown) throw new ConnectorBuildError("USAGE", "analyze: --json and --markdown are exclusive");
  const extraImages = [...(Array.isArray(opts.images) ? opts.images : []), ...(opts.image ?? [])];
  const runImages = opts.images === true || extraImages.length > 0;
  if (root === undefined && !runImages) throw new ConnectorBuildError("USAGE", "analyze: expected a repository root, or images with --image <ref>");
  if (root === undefined && opts.images === true) throw new ConnectorBuildError("USAGE", "analyze: --images analyses the variants' example images: give a repository root");
  const languages = list(opts.language);
  const supportLevels = list(opts.supportLevel);
  const pullPlatform = opts.platform !== undefined ? parsePlatform(opts.platform, "--platform") : undefined;

  let repository: DockerfileAnalysisReport | undefined;
  if (root !== undefined) {
    repository = await analyzeRepository(root, { ...(languages ? { languages } : {}), ...(supportLevels ? { supportLevels } : {}) });
  }

  let images: ImageAnalysisReport | undefined;
  if (runImages) {
    const references = [...(opts.images === true ? (repository?.variants ?? []).flatMap((v) => (v.example.image !== undefined ? [v.example.image] : [])) : []), ...extraImages];
    const baseImages = opts.baseImage ?? [...new Set((repository?.variants ?? []).flatMap((v) => v.baseImages))];
    const choice = opts.engine ?? "docker";
    const engine = typeof choice === "string" ? await selectEngine(choice) : choice;
    try {
      images = await analyzeImages(engine, references, baseImages, {
        ...(pullPlatform ? { pullPlatform } : {}),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
    } finally {
      if (typeof choice === "string") await engine.close();
    }
  }

  if (opts.json) {
    // The repository report is the document itself ({"selected", "variants", ...}); images join it.
    process.stdout.write(`${JSON.stringify({ ...(repository ?? {}), ...(images ? { images } : {}) }, null, 2)}\n`);
  } else {
    const parts: string[] = [];
    if (repository) parts.push(renderAnalysisMarkdown(repository));
    if (images) parts.push(renderImageAnalysisMarkdown(images, { headingLevel: repository ? 2 : 1 }));
    process.stdout.write(parts.join("\n"));
  }
  if (images && images.problems.length > 0) {
    // An incomplete analysis is an outcome, reported and returned, not an error.
    const failed = [...new Set(images.problems.map((p) => p.image))];
    process.stderr.write(`connector-build: ${plural(failed.length, "image")} could not be (fully) read: ${failed.join(", ")} (see Problems)\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}
