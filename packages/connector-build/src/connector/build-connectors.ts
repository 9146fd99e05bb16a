import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { platformArchitecture, type BaseImageCatalog, type Platform } from "@airbyte-ci/base-images";
import type { BuiltImage, CacheReport, Engine } from "../engines/engine.ts";
import { AirbyteCiError } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { findSpecMessage } from "../inspect/image-probes.ts";
import { createLimiter } from "../shared/pool.ts";
import { pipIndexSecrets, withPipIndex, type PipIndexOptions } from "./pip-index.ts";
import { baseImageAnnotations, resolvePublishedBase } from "./published-base.ts";
import { prepareConnector, pythonConnectorRecipe, type PreparedConnector } from "./python-build.ts";

/** Where built images go. */
export type BuildOutput =
  | { readonly kind: "docker" }
  | { readonly kind: "oci"; readonly path: string }
  | { readonly kind: "registry"; readonly prefix: string }
  | { readonly kind: "none" };

/** Parses `--output docker|oci:<file>|registry:<ref>`. */
export function parseBuildOutput(value: string): BuildOutput {
  if (value === "docker") return { kind: "docker" };
  if (value === "none") return { kind: "none" };
  if (value.startsWith("oci:") && value.length > 4) return { kind: "oci", path: resolve(value.slice(4)) };
  if (value.startsWith("registry:") && value.length > 9) {
    const prefix = value.slice(9).replace(/\/+$/, "");
    if (/[@\s]/.test(prefix)) throw new ConnectorBuildError("USAGE", `--output ${value}: expected registry:<registry>[/<namespace>], e.g. registry:127.0.0.1:5000`);
    return { kind: "registry", prefix };
  }
  throw new ConnectorBuildError("USAGE", `--output '${value}': expected docker, oci:<file>, registry:<registry>[/<namespace>] or none`);
}

/** A step of one connector's build: metadata, base image and hooks; engine build; `spec`; output. */
export type BuildPhase = "prepare" | "build" | "verify" | "output";

/** The result of building one connector, as `--json` prints it. */
export interface ConnectorBuildResult {
  connector: string;
  dir: string;
  status: "success" | "failed";
  error?: { code: string; message: string };
  dockerRepository?: string;
  dockerImageTag?: string;
  baseImage?: { version: string; address: string | undefined };
  durationMs: number;
  /** Time spent in each phase, summed over platforms (ms). */
  phasesMs?: Partial<Record<BuildPhase, number>>;
  platforms: Array<{
    platform: Platform;
    imageId: string;
    reference?: string;
    digest?: string;
    verification: { spec: boolean; detail: string };
    cache?: CacheReport;
  }>;
  output?: { kind: BuildOutput["kind"]; reference?: string; digest?: string; path?: string };
}

/** Options of {@link buildConnectors}. */
export interface BuildConnectorsOptions {
  readonly engine: Engine;
  readonly catalog: BaseImageCatalog;
  readonly platforms: readonly Platform[];
  readonly output: BuildOutput;
  readonly concurrency?: number;
  readonly secrets?: Readonly<Record<string, string>>;
  /** Package index settings for every dependency install, passed as build secrets. Default: pip's own (PyPI). */
  readonly pipIndex?: PipIndexOptions;
  /** How the user named the catalog (`local`, a path), for hints in errors. Default: none. */
  readonly catalogRef?: string;
  readonly onProgress?: (connector: string, line: string) => void;
  /** Called when a connector enters a phase (`dir` is the absolute folder); its result arrives through `onDone`. Default: none. */
  readonly onPhase?: (dir: string, connector: string, phase: BuildPhase, detail: string) => void;
  /** Called with each connector's result as soon as it is finished. Default: none. */
  readonly onDone?: (result: ConnectorBuildResult) => void;
}

/** Runs `spec` through the entrypoint, without network (spec must not need one), and requires a JSON line whose type is SPEC. */
export async function verifySpec(engine: Engine, image: BuiltImage): Promise<{ spec: boolean; detail: string; message?: unknown }> {
  const run = await engine.run(image, ["spec"], { useEntrypoint: true, network: false });
  const message = findSpecMessage(run.stdout);
  if (message) return { spec: true, detail: "spec answered with a SPEC message", message };
  return {
    spec: false,
    detail: `spec exited with ${run.exitCode} and printed no JSON line with "type": "SPEC"; last output:\n${lastLines(`${run.stdout}\n${run.stderr}`, 10) || "(none)"}`,
  };
}

/** Published base images resolved once per buildConnectors call (one registry read per base image version, not per connector). */
type BaseCache = Map<string, ReturnType<typeof resolvePublishedBase>>;

async function buildOne(dir: string, options: BuildConnectorsOptions, ociMany: boolean, bases: BaseCache): Promise<ConnectorBuildResult> {
  const started = Date.now();
  const result: ConnectorBuildResult = { connector: dir.split("/").filter(Boolean).at(-1) ?? dir, dir, status: "failed", durationMs: 0, platforms: [] };
  const log = (line: string) => options.onProgress?.(result.connector, line);
  const phasesMs: Partial<Record<BuildPhase, number>> = {};
  let current: { phase: BuildPhase; since: number } | undefined;
  const endPhase = () => {
    if (current) phasesMs[current.phase] = (phasesMs[current.phase] ?? 0) + performance.now() - current.since;
    current = undefined;
  };
  const enter = (phase: BuildPhase, detail = "") => {
    endPhase();
    current = { phase, since: performance.now() };
    options.onPhase?.(dir, result.connector, phase, detail);
  };
  try {
    enter("prepare");
    const catalogRef = options.catalogRef !== undefined ? { catalogRef: options.catalogRef } : {};
    const prepared: PreparedConnector = await prepareConnector(dir, options.catalog, catalogRef);
    const { metadata } = prepared;
    result.connector = metadata.technicalName;
    result.dockerRepository = metadata.dockerRepository;
    result.dockerImageTag = metadata.dockerImageTag;
    result.baseImage = { version: prepared.baseImage.version, address: prepared.baseImage.publishedAddress };
    for (const p of options.platforms) prepared.baseImage.rootImage(p);
    const baseKey = `${prepared.baseImage.version}\0${prepared.baseImage.publishedAddress ?? ""}`;
    let pending = bases.get(baseKey);
    if (!pending) {
      pending = resolvePublishedBase(prepared.baseImage, options.platforms, catalogRef);
      pending.catch(() => bases.delete(baseKey));
      bases.set(baseKey, pending);
    }
    const publishedBase = await pending;
    const connector: PreparedConnector = { ...prepared, publishedBase };
    // Recipes for every platform first: a hook failing on any platform stops before any build.
    const recipes = [];
    for (const platform of options.platforms) {
      recipes.push({ platform, recipe: withPipIndex(await pythonConnectorRecipe(connector, platform), options.pipIndex) });
    }
    const secrets = { ...options.secrets, ...pipIndexSecrets(options.pipIndex) };
    const images: BuiltImage[] = [];
    for (const { platform, recipe } of recipes) {
      log(`building ${platform} on base image ${prepared.baseImage.version}`);
      enter("build", platform);
      const image = await options.engine.build({
        recipe,
        platform,
        contextDir: metadata.dir,
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
        onProgress: (line) => log(line),
      });
      log(`verifying ${platform}: spec`);
      enter("verify", platform);
      const verification = await verifySpec(options.engine, image);
      result.platforms.push({ platform, imageId: image.ref, verification: { spec: verification.spec, detail: verification.detail }, ...(image.cache ? { cache: image.cache } : {}) });
      if (!verification.spec) {
        throw new ConnectorBuildError("VERIFICATION_FAILED", `connector ${metadata.technicalName} (${platform}): ${verification.detail}`);
      }
      images.push(image);
    }
    // Every platform built and verified: only now is anything output.
    const reference = `${metadata.dockerRepository}:${metadata.dockerImageTag}`;
    const output = options.output;
    enter("output", output.kind);
    if (output.kind === "docker") {
      for (const [i, image] of images.entries()) {
        const tag = images.length > 1 ? `${reference}-${platformArchitecture(image.platform)}` : reference;
        await options.engine.loadIntoDocker(image, tag);
        const entry = result.platforms[i];
        if (entry) entry.reference = tag;
      }
      result.output = { kind: "docker", reference };
    } else if (output.kind === "oci") {
      const path = ociMany ? join(output.path, `${metadata.technicalName}.tar`) : output.path;
      await options.engine.exportOci(images, path);
      result.output = { kind: "oci", path };
    } else if (output.kind === "registry") {
      const target = `${output.prefix}/${reference}`;
      const published = await options.engine.publish(images, target, { annotations: baseImageAnnotations(publishedBase, options.platforms) });
      for (const entry of result.platforms) {
        const digest = published.platformDigests[entry.platform];
        if (digest) entry.digest = digest;
      }
      result.output = { kind: "registry", reference: published.address, digest: published.digest };
    }
    result.status = "success";
  } catch (error) {
    result.error = {
      code: AirbyteCiError.isInstance(error) ? error.code : "BUILD_FAILED",
      message: error instanceof Error ? error.message : String(error),
    };
  }
  endPhase();
  result.phasesMs = Object.fromEntries(Object.entries(phasesMs).map(([k, v]) => [k, Math.round(v)]));
  result.durationMs = Date.now() - started;
  options.onDone?.(result);
  return result;
}

/**
 * Builds connectors, each for every platform, verifies each image answers `spec`, then outputs it.
 * A connector with any failing platform outputs nothing; others go on. Connectors build `concurrency`
 * at a time (default 1); platforms of one connector one after another.
 */
export async function buildConnectors(dirs: readonly string[], options: BuildConnectorsOptions): Promise<ConnectorBuildResult[]> {
  if (dirs.length === 0) throw new ConnectorBuildError("USAGE", "no connector directory given: expected connector-build build <connector-dir>...");
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ConnectorBuildError("INVALID_CONNECTOR", `${dir} is not a directory: expected a connector folder holding metadata.yaml`);
    }
  }
  const output = options.output;
  const ociMany = output.kind === "oci" && (dirs.length > 1 || (existsSync(output.path) && statSync(output.path).isDirectory()));
  if (output.kind === "oci" && ociMany) mkdirSync(output.path, { recursive: true });
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const limit = createLimiter(concurrency);
  const bases: BaseCache = new Map();
  return Promise.all(dirs.map((dir) => limit(() => buildOne(resolve(dir), options, ociMany, bases))));
}
