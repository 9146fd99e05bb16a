import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run, tail } from "./proc.ts";

/** The client the benchmark drives directly: Debian's, which has BuildKit built in. */
export const DOCKER = process.env.DOCKER_CLI ?? "/usr/bin/docker";
const ENV = { ...process.env, DOCKER_BUILDKIT: "1" };

export class BenchError extends Error {
  override name = "BenchError";
}

export async function docker(args: readonly string[], what: string): Promise<string> {
  const result = await run(DOCKER, args, { env: ENV });
  if (result.exitCode !== 0) throw new BenchError(`${what} failed (docker ${args.join(" ")}, exit ${result.exitCode}):\n${tail(result.stderr || result.stdout, 10)}`);
  return result.stdout;
}

/** `docker builder prune -af`: every BuildKit cache record, cache mounts included. Images stay. */
export async function pruneBuildCache(): Promise<void> {
  await docker(["builder", "prune", "-af"], "clearing the BuildKit cache");
}

/** Removes images by id or tag; missing ones are fine. */
export async function removeImages(refs: readonly string[]): Promise<void> {
  const unique = [...new Set(refs)];
  if (unique.length === 0) return;
  const result = await run(DOCKER, ["image", "rm", "-f", ...unique], { env: ENV });
  if (result.exitCode !== 0 && !/No such image/i.test(result.stderr)) {
    throw new BenchError(`removing images ${unique.join(", ")} failed:\n${tail(result.stderr, 5)}`);
  }
}

/** `docker image inspect` Size, in bytes. */
export async function imageSize(ref: string): Promise<number> {
  const out = await docker(["image", "inspect", "--format", "{{.Size}}", ref], `inspecting ${ref}`);
  const size = Number(out.trim());
  if (!Number.isFinite(size)) throw new BenchError(`docker image inspect ${ref} gave no size: ${out}`);
  return size;
}

/**
 * A timed `docker build` of a Dockerfile, with BuildKit and host networking, `--iidfile` and no `-t`
 * (as the Docker engine builds); the tag is set afterwards, outside the timed part.
 */
export interface DockerBuildResult {
  readonly ms: number;
  readonly imageId: string;
  /** Build steps (RUN/COPY/WORKDIR…) BuildKit reported, and how many of them were cached. */
  readonly steps: number;
  readonly cachedSteps: number;
  readonly vertices: VertexTiming[];
}

export async function dockerBuild(options: {
  contextDir: string;
  dockerfile: string;
  tag: string;
  buildArgs: Readonly<Record<string, string>>;
  workDir: string;
}): Promise<DockerBuildResult> {
  const iid = join(options.workDir, `iid-${process.pid}-${Date.now()}`);
  const args = [
    "build",
    "--progress=plain",
    "--network",
    "host",
    "--platform",
    "linux/amd64",
    ...Object.entries(options.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    "--iidfile",
    iid,
    "-f",
    options.dockerfile,
    options.contextDir,
  ];
  const lines: string[] = [];
  const result = await run(DOCKER, args, { env: ENV, onLine: (l) => lines.push(l) });
  const ms = result.ms;
  try {
    if (result.exitCode !== 0) {
      throw new BenchError(`docker build of ${options.tag} failed (exit ${result.exitCode}):\n${tail(lines.join("\n"), 25)}`);
    }
    const imageId = readFileSync(iid, "utf8").trim();
    // Tagged after the timed build, as the Docker engine's loadIntoDocker does for the common build.
    await docker(["tag", imageId, options.tag], `tagging ${imageId} as ${options.tag}`);
    const vertices = vertexTimings(lines);
    // Build steps are the vertices titled `[i/n] …` (`[stage-1 i/n] …`), FROM lines and BuildKit's internal ones aside.
    const steps = vertices.filter((v) => /^\[\s*(?:[\w-]+\s+)?\d+\/\d+\] /.test(v.title) && !/^\[[^\]]*\] FROM|\[internal\]/.test(v.title));
    return { ms, imageId, steps: steps.length, cachedSteps: steps.filter((v) => v.cached).length, vertices };
  } finally {
    rmSync(iid, { force: true });
  }
}

/** Runs `spec` through the entrypoint; returns the SPEC message or throws with the output. */
export async function runSpec(ref: string): Promise<{ ms: number; message: Record<string, unknown> }> {
  const result = await run(DOCKER, ["run", "--rm", "--network", "none", ref, "spec"], { env: ENV });
  for (const line of result.stdout.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.type === "SPEC") return { ms: result.ms, message };
    } catch {
      // not JSON
    }
  }
  throw new BenchError(`${ref} spec exited ${result.exitCode} without a SPEC message:\n${tail(`${result.stdout}\n${result.stderr}`, 10)}`);
}

/** The version of the Docker server, for the record. */
export async function dockerServerVersion(): Promise<string> {
  const result = await run(DOCKER, ["version", "--format", "{{.Server.Version}}"], { env: ENV });
  if (result.exitCode !== 0) {
    throw new BenchError(`no Docker daemon answers ${DOCKER} (${tail(result.stderr, 2)}): run bash scripts/env/setup.sh (it starts dockerd and the registry)`);
  }
  return result.stdout.trim();
}

/** One BuildKit vertex from plain progress: its title, whether it was cached, how long it took. */
export interface VertexTiming {
  readonly title: string;
  readonly cached: boolean;
  readonly seconds: number;
}

/**
 * Per-vertex times from BuildKit's plain progress (`#5 [2/6] RUN …`, `#5 DONE 8.1s`, `#5 CACHED`),
 * in order of appearance: where a build spends its time (steps, context transfer, image export).
 */
export function vertexTimings(lines: readonly string[]): VertexTiming[] {
  const byId = new Map<string, { title: string; cached: boolean; seconds: number }>();
  for (const line of lines) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const id = m[1] as string;
    const rest = m[2] as string;
    let v = byId.get(id);
    if (!v) {
      v = { title: rest, cached: false, seconds: 0 };
      byId.set(id, v);
      continue;
    }
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (done) v.seconds = Number(done[1]);
    else if (rest === "CACHED") v.cached = true;
  }
  return [...byId.values()].map((v) => ({ title: v.title.length > 120 ? `${v.title.slice(0, 117)}...` : v.title, cached: v.cached, seconds: v.seconds }));
}
