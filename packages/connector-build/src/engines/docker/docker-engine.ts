import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { ImageRecipe, Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { OciLayout, unpackTarball } from "../../registry/oci-layout.ts";
import type { RegistryClient } from "../../registry/registry-client.ts";
import { MEDIA_TYPES, OCI_MEDIA_TYPES, type Descriptor, type ImageManifest } from "../../registry/oci-types.ts";
import { runProcess } from "../../shared/process.ts";
import { registerCleanup } from "../../shared/cleanup.ts";
import { replaceRegularFile } from "../../shared/output-file.ts";
import type { ChildProcess } from "node:child_process";
import { docker, findDockerClient } from "./docker-client.ts";
import { renderDockerfile, type RenderedDockerfile } from "../../dockerfile/render.ts";
import type { BuildRequest, BuiltImage, CacheReport, DockerfileBuildRequest, Engine, ImageRunConfig, ImportedOci, PublishOptions, PublishResult, ResolveImageOptions, ResolvedImage, RunOptions, RunResult } from "../engine.ts";
import { findLocalDockerImage, resolveDockerImage } from "./resolve-image.ts";
import { importOciTarball } from "./load-oci.ts";
import { publishImages } from "./publish.ts";
import { buildDockerfileWithDocker } from "./dockerfile-build.ts";

interface VertexLog {
  step?: number;
  title?: string;
  cached: boolean;
  error?: string;
  output: string[];
}

/** Parses BuildKit's plain progress: which `[i/n]` step each vertex is, cached or not, its output. */
export function parseBuildkitProgress(lines: readonly string[]): Map<string, VertexLog> {
  const vertices = new Map<string, VertexLog>();
  const get = (id: string) => {
    let v = vertices.get(id);
    if (!v) {
      v = { cached: false, output: [] };
      vertices.set(id, v);
    }
    return v;
  };
  for (const line of lines) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m as unknown as [string, string, string];
    const v = get(id);
    const header = /^\[\s*(?:[\w-]+\s+)?(\d+)\/(\d+)\] (.*)$/.exec(rest);
    if (header && v.step === undefined) {
      v.step = Number(header[1]);
      v.title = header[3];
    } else if (rest === "CACHED") {
      v.cached = true;
    } else if (rest.startsWith("ERROR")) {
      v.error = rest.replace(/^ERROR:?\s*/, "");
    } else {
      const out = /^\d+\.\d+ (.*)$/.exec(rest);
      if (out) v.output.push(out[1] as string);
    }
  }
  return vertices;
}

function cacheReport(rendered: RenderedDockerfile, vertices: Map<string, VertexLog>): CacheReport {
  const byStep = new Map<number, VertexLog>();
  for (const v of vertices.values()) if (v.step !== undefined) byStep.set(v.step, v);
  let stepNo = 0;
  const steps: Array<{ operation: number; op: string; cached: boolean }> = [];
  for (const s of rendered.steps) {
    if (!s.buildStep) continue;
    stepNo += 1;
    if (s.op === "from") continue;
    steps.push({ operation: s.operation, op: s.op, cached: byStep.get(stepNo)?.cached ?? false });
  }
  return { steps };
}

/** Checks that every file the recipe copies exists in the context, before the engine says it obscurely. */
function checkContextSources(recipe: ImageRecipe, contextDir: string | undefined): void {
  for (const [index, op] of recipe.operations.entries()) {
    if (op.op !== "withFile" && op.op !== "withDirectory") continue;
    if (!contextDir) {
      throw new ConnectorBuildError("BUILD_FAILED", `operation ${index} (${op.op} ${op.path}): the recipe copies '${op.source}' but the build has no context directory`);
    }
    const path = resolve(contextDir, op.source);
    const stat = existsSync(path) ? statSync(path) : undefined;
    if (!stat || (op.op === "withFile" && !stat.isFile()) || (op.op === "withDirectory" && !stat.isDirectory())) {
      throw new ConnectorBuildError(
        "BUILD_FAILED",
        `operation ${index} (${op.op} ${op.path}): '${op.source}' is not ${op.op === "withFile" ? "a file" : "a directory"} in the build context ${contextDir}`,
      );
    }
  }
}

/** Copies the files and folders a recipe copies from `contextDir` into `target`, at the same relative paths. */
function stageRecipeSources(recipe: ImageRecipe, contextDir: string, target: string): void {
  mkdirSync(target, { recursive: true });
  for (const op of recipe.operations) {
    if (op.op !== "withFile" && op.op !== "withDirectory") continue;
    const destination = join(target, relative(contextDir, resolve(contextDir, op.source)));
    mkdirSync(dirname(destination), { recursive: true });
    cpSync(resolve(contextDir, op.source), destination, { recursive: true });
  }
}

function describeOperation(recipe: ImageRecipe, index: number): string {
  const op = recipe.operations[index];
  if (!op) return "an unknown operation";
  if (op.op === "withExec") return `operation ${index} (withExec ${JSON.stringify(op.args)})`;
  if (op.op === "from") return `operation ${index} (from ${op.address})`;
  return `operation ${index} (${op.op} ${"path" in op ? op.path : ""})`;
}

/** Most bytes of stdout (and of stderr) an image run may print: a `spec` is a few hundred kilobytes. */
const MAX_RUN_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Builds recipes on the local Docker daemon with BuildKit: the recipe is rendered to a Dockerfile
 * ({@link renderDockerfile}) and built for one `--platform` at a time. Build containers use host
 * networking so they can reach services on loopback (a local package index, say).
 */
export class DockerEngine implements Engine {
  readonly name = "docker" as const;
  readonly contentAddressedRefs = true;
  private readonly workRoot: string;
  private readonly registry: RegistryClient | undefined;

  /**
   * `workDir`: where build and export work files go (default: the system temp dir). `registry`: the
   * client a publish pushes through and reads back from (default: a new client, credentials from the
   * environment or the Docker config).
   */
  constructor(options: { workDir?: string; registry?: RegistryClient } = {}) {
    this.workRoot = options.workDir ?? tmpdir();
    this.registry = options.registry;
  }

  async build(request: BuildRequest): Promise<BuiltImage> {
    const { recipe, platform } = request;
    const rendered = renderDockerfile(recipe);
    checkContextSources(recipe, request.contextDir);
    const missing = rendered.secrets.filter((s) => request.secrets?.[s] === undefined);
    if (missing.length > 0) {
      throw new ConnectorBuildError("BUILD_FAILED", `the recipe needs the secret(s) ${missing.join(", ")} but no value was given: pass them to the build`);
    }
    const client = await findDockerClient();
    // Private (0700): it holds the secret files, the Dockerfile and maybe a copy of the context.
    const work = mkdtempSync(join(this.workRoot, "airbyte-ci-build-"));
    chmodSync(work, 0o700);
    let child: ChildProcess | undefined;
    // On an interrupt the CLI runs this: the build client is stopped (BuildKit cancels its build
    // containers) and the folder with its secret files removed.
    const unregister = registerCleanup(() => {
      child?.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    });
    try {
      let context = request.contextDir ? resolve(request.contextDir) : join(work, "context");
      if (!request.contextDir) mkdirSync(context);
      const ignoring = request.contextDir !== undefined && existsSync(join(context, ".dockerignore"));
      if (ignoring || Object.keys(rendered.generatedFiles).length > 0) {
        // The user's directory is never written to: generated files go into a copy of the context.
        // A recipe copies exactly what it names (as on Dagger): a .dockerignore there must not hide
        // any of it, so a context with one is staged with the recipe's sources only.
        const copy = join(work, "context");
        if (ignoring) stageRecipeSources(recipe, context, copy);
        else if (request.contextDir) cpSync(context, copy, { recursive: true });
        context = copy;
        for (const [path, file] of Object.entries(rendered.generatedFiles)) {
          const target = join(context, path);
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, file.contents);
        }
      }
      const dockerfilePath = join(work, "Dockerfile");
      writeFileSync(dockerfilePath, rendered.dockerfile);
      const secretArgs: string[] = [];
      for (const name of rendered.secrets) {
        const file = join(work, `secret-${randomBytes(6).toString("hex")}`);
        writeFileSync(file, request.secrets?.[name] ?? "", { mode: 0o600 });
        secretArgs.push("--secret", `id=${name},src=${file}`);
      }
      const iid = join(work, "iid");
      const args = [
        ...(client.buildkit === "buildx" ? ["buildx", "build", "--load"] : ["build"]),
        "--progress=plain",
        "--platform",
        platform,
        "--network",
        request.network === "none" ? "none" : "host",
        ...(request.noCache ? ["--no-cache"] : []),
        "--iidfile",
        iid,
        "-f",
        dockerfilePath,
        ...secretArgs,
        context,
      ];
      const lines: string[] = [];
      const result = await runProcess(client.path, args, {
        env: { ...process.env, DOCKER_BUILDKIT: "1" },
        onSpawn: (spawned) => (child = spawned),
        onStderrLine: (line) => {
          lines.push(line);
          request.onProgress?.(line);
        },
        onStdoutLine: (line) => {
          lines.push(line);
          request.onProgress?.(line);
        },
      });
      const vertices = parseBuildkitProgress(lines);
      if (result.exitCode !== 0 || !existsSync(iid)) {
        throw this.buildError(recipe, rendered, vertices, lines, platform);
      }
      const ref = readFileSync(iid, "utf8").trim();
      return { engine: "docker", platform, ref, cache: cacheReport(rendered, vertices) };
    } finally {
      unregister();
      rmSync(work, { recursive: true, force: true });
    }
  }

  private buildError(recipe: ImageRecipe, rendered: RenderedDockerfile, vertices: Map<string, VertexLog>, lines: string[], platform: Platform) {
    const failed = [...vertices.values()].find((v) => v.error !== undefined && v.step !== undefined);
    if (failed?.step !== undefined) {
      const buildSteps = rendered.steps.filter((s) => s.buildStep);
      const step = buildSteps[failed.step - 1];
      const exit = /exit code: (\d+)/.exec(failed.error ?? "")?.[1];
      const where = step ? describeOperation(recipe, step.operation) : `step ${failed.step}`;
      return new ConnectorBuildError(
        "BUILD_FAILED",
        `build for ${platform} failed at ${where}${exit !== undefined ? ` with exit code ${exit}` : ""}: ${failed.error}\nlast output:\n${
          lastLines(failed.output.join("\n")) || "(none)"
        }`,
      );
    }
    return new ConnectorBuildError("BUILD_FAILED", `build for ${platform} failed:\n${lastLines(lines.join("\n"))}`);
  }

  buildDockerfile(request: DockerfileBuildRequest): Promise<BuiltImage> {
    return buildDockerfileWithDocker(request, this.workRoot);
  }

  /** The image the local Docker holds under `reference`, never pulled. */
  localImage(reference: string): Promise<ResolvedImage | undefined> {
    return findLocalDockerImage(reference);
  }

  /** Loads the images of an OCI layout tarball into the local Docker (see {@link importOciTarball}). */
  importOci(file: string, options: { platform?: Platform } = {}): Promise<ImportedOci> {
    return importOciTarball(file, { ...options, workRoot: this.workRoot });
  }

  /** Resolves a reference in the local Docker, pulling it for `options.platform` when absent. */
  resolveImage(reference: string, options: ResolveImageOptions = {}): Promise<ResolvedImage> {
    return resolveDockerImage(reference, options);
  }

  async run(image: BuiltImage, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (!options.useEntrypoint && argv.length === 0) {
      throw new ConnectorBuildError("RUN_FAILED", "run: an argv is required when the entrypoint is not used");
    }
    // Named, so that it can be removed when the client is stopped (timeout, interrupt): killing
    // `docker run` does not stop its container.
    const name = `airbyte-ci-run-${randomBytes(8).toString("hex")}`;
    const args = ["run", "--rm", "--name", name, "--label", `io.airbyte-ci.pid=${process.pid}`, "--platform", image.platform, ...(options.network === false ? ["--network", "none"] : []), ...(options.useEntrypoint ? [] : ["--entrypoint", ""]), image.ref, ...argv];
    const removeContainer = async () => {
      await docker(["rm", "-f", name]).catch(() => undefined);
    };
    let client: ChildProcess | undefined;
    // On an interrupt: the `docker run` client is stopped too (it would outlive the CLI), then its container removed.
    const unregister = registerCleanup(async () => {
      client?.kill("SIGKILL");
      await removeContainer();
    });
    const timeout = new AbortController();
    const timer = options.timeoutMs !== undefined ? setTimeout(() => timeout.abort(), options.timeoutMs) : undefined;
    let result: Awaited<ReturnType<typeof docker>> | undefined;
    try {
      result = await docker(args, { signal: timeout.signal, maxOutputBytes: MAX_RUN_OUTPUT_BYTES, onSpawn: (child) => (client = child) }).catch((error: unknown) => {
        if (timeout.signal.aborted) return undefined;
        throw error;
      });
    } finally {
      if (timer) clearTimeout(timer);
      if (timeout.signal.aborted || result?.overflowed !== undefined) await removeContainer();
      unregister();
    }
    if (result?.overflowed !== undefined) {
      throw new ConnectorBuildError(
        "RUN_FAILED",
        `${JSON.stringify(argv)} in ${image.ref} (${image.platform}) printed more than ${MAX_RUN_OUTPUT_BYTES / 1024 / 1024} MiB on ${result.overflowed}: expected a bounded output (spec prints one JSON message); it was stopped and its container ${name} removed`,
      );
    }
    if (result === undefined || timeout.signal.aborted) {
      throw new ConnectorBuildError(
        "RUN_FAILED",
        `${JSON.stringify(argv)} in ${image.ref} (${image.platform}) did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)} s; its container ${name} was removed`,
      );
    }
    if (result.exitCode === 125) {
      throw new ConnectorBuildError("RUN_FAILED", `docker could not start ${JSON.stringify(argv)} in ${image.ref} (${image.platform}): ${lastLines(result.stderr, 5)}`);
    }
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  }

  async inspect(image: BuiltImage): Promise<ImageRunConfig> {
    return inspectDockerImage(image.ref);
  }

  async loadIntoDocker(image: BuiltImage, tag: string): Promise<string> {
    const result = await docker(["tag", image.ref, tag]);
    if (result.exitCode !== 0) {
      throw new ConnectorBuildError("EXPORT_FAILED", `could not tag ${image.ref} as ${tag}: ${lastLines(result.stderr, 5)}`);
    }
    return image.ref;
  }

  async exportOci(images: readonly BuiltImage[], file: string): Promise<void> {
    await exportOciLayout(images, file, this.workRoot);
  }

  async publish(images: readonly BuiltImage[], reference: string, options: PublishOptions = {}): Promise<PublishResult> {
    return publishImages(images, reference, this.registry, options);
  }

  async close(): Promise<void> {}
}

/** Reads the config of a local Docker image. */
export async function inspectDockerImage(ref: string): Promise<ImageRunConfig> {
  const result = await docker(["image", "inspect", "--format", "{{json .}}", ref]);
  if (result.exitCode !== 0) {
    throw new ConnectorBuildError("RUN_FAILED", `cannot inspect image ${ref}: ${lastLines(result.stderr, 3)}`);
  }
  const data = JSON.parse(result.stdout) as {
    Architecture: string;
    Os: string;
    Config: { Env?: string[]; Labels?: Record<string, string> | null; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
  };
  const env: Record<string, string> = {};
  for (const kv of data.Config.Env ?? []) {
    const eq = kv.indexOf("=");
    env[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? "" : kv.slice(eq + 1);
  }
  return {
    env,
    labels: data.Config.Labels ?? {},
    entrypoint: data.Config.Entrypoint ?? [],
    cmd: data.Config.Cmd ?? [],
    workdir: data.Config.WorkingDir ?? "",
    user: data.Config.User ?? "",
    architecture: data.Architecture,
    os: data.Os,
  };
}

/**
 * Writes images as one OCI image layout tarball (index.json with one manifest per platform),
 * converted from `docker save` output so no registry or network is needed. Written to a temporary
 * file and renamed: a failed export leaves no partial tarball.
 */
export async function exportOciLayout(images: readonly BuiltImage[], file: string, workRoot = tmpdir()): Promise<void> {
  const work = mkdtempSync(join(workRoot, "airbyte-ci-oci-"));
  const target = resolve(file);
  const partial = `${target}.${process.pid}.partial`;
  // An interrupt removes the export folder (an image's size) and the partial tarball.
  const unregister = registerCleanup(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(partial, { force: true });
  });
  try {
    const layout = OciLayout.create(join(work, "layout"));
    const manifests: Descriptor[] = [];
    for (const [i, image] of images.entries()) {
      const saved = join(work, `saved-${i}`);
      const tarFile = join(work, `saved-${i}.tar`);
      const save = await docker(["save", "-o", tarFile, image.ref]);
      if (save.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `docker save ${image.ref} failed: ${lastLines(save.stderr, 5)}`);
      await unpackTarball(tarFile, saved, "docker save output");
      const [entry] = JSON.parse(readFileSync(join(saved, "manifest.json"), "utf8")) as Array<{ Config: string; Layers: string[] }>;
      if (!entry) throw new ConnectorBuildError("EXPORT_FAILED", `docker save ${image.ref} produced no manifest`);
      const config = await layout.addBlobFile(join(saved, entry.Config));
      const layers = [];
      for (const layer of entry.Layers) layers.push(await layout.addBlobFile(join(saved, layer)));
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: OCI_MEDIA_TYPES.config, ...config },
        layers: layers.map((l) => ({ mediaType: OCI_MEDIA_TYPES.layer, ...l })),
      };
      const m = layout.addBlob(new TextEncoder().encode(JSON.stringify(manifest)));
      const [os, architecture] = image.platform.split("/") as [string, string];
      manifests.push({ mediaType: MEDIA_TYPES.ociManifest, ...m, platform: { os, architecture } });
      rmSync(saved, { recursive: true, force: true });
      rmSync(tarFile, { force: true });
    }
    layout.writeIndex(manifests);
    await layout.pack(partial);
    try {
      replaceRegularFile(partial, target);
    } catch (error) {
      throw new ConnectorBuildError("EXPORT_FAILED", `cannot write ${target}: ${(error as Error).message}`);
    }
  } finally {
    unregister();
    rmSync(partial, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
