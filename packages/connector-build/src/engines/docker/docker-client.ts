import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ConnectorBuildError } from "../../errors.ts";
import { runProcess } from "../../shared/process.ts";

/** A Docker CLI that can build with BuildKit, and how to call it. */
export interface DockerClient {
  /** Path of the docker binary. */
  readonly path: string;
  /** Client version, e.g. 20.10.24+dfsg1. */
  readonly version: string;
  /** `buildx`: use `docker buildx build --load`; `builtin`: `DOCKER_BUILDKIT=1 docker build`. */
  readonly buildkit: "buildx" | "builtin";
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .filter((p) => existsSync(p));
}

let cached: Promise<DockerClient> | undefined;

/**
 * Finds a Docker client that can build with BuildKit and reach a daemon. `DOCKER_CLI` overrides
 * the choice. A client with the buildx plugin is used through `buildx build --load`; a client older
 * than 23 has BuildKit built in (`DOCKER_BUILDKIT=1`). Newer clients without buildx fall back to the
 * legacy builder, which rejects `RUN --mount`: they are skipped, and the error lists what was tried.
 * The client reads `DOCKER_HOST` (and `DOCKER_CONTEXT`) itself, so a remote daemon (`tcp://`,
 * `ssh://user@host`: the CLI runs `ssh … docker system dial-stdio`) builds, runs and tags there.
 */
export function findDockerClient(): Promise<DockerClient> {
  cached ??= detect().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Forgets the detected client (tests, or after the environment changed). */
export function resetDockerClientCache(): void {
  cached = undefined;
}

async function detect(): Promise<DockerClient> {
  const override = process.env.DOCKER_CLI;
  const candidates = override ? [override] : [...new Set([...onPath("docker"), "/usr/bin/docker", "/usr/local/bin/docker"])];
  const tried: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      tried.push(`${path}: not found`);
      continue;
    }
    const version = await runProcess(path, ["version", "--format", "{{.Client.Version}}"]).catch(() => undefined);
    if (!version || version.exitCode !== 0) {
      const server = version?.stderr.trim().split("\n").at(-1) ?? "could not run";
      tried.push(`${path}: ${server}`);
      continue;
    }
    const clientVersion = version.stdout.trim().split("\n")[0] ?? "";
    const buildx = await runProcess(path, ["buildx", "version"]).catch(() => undefined);
    let buildkit: DockerClient["buildkit"] | undefined;
    if (buildx?.exitCode === 0) buildkit = "buildx";
    else if (Number.parseInt(clientVersion, 10) < 23) buildkit = "builtin";
    if (!buildkit) {
      tried.push(`${path} (client ${clientVersion}): no buildx plugin and no built-in BuildKit`);
      continue;
    }
    return { path, version: clientVersion, buildkit };
  }
  throw new ConnectorBuildError(
    "ENGINE_UNAVAILABLE",
    `no usable Docker engine: expected a docker client with BuildKit (buildx plugin, or a client < 23 with BuildKit built in) and a running daemon${
      override ? " (DOCKER_CLI is set)" : ""
    }${process.env.DOCKER_HOST ? ` at DOCKER_HOST=${process.env.DOCKER_HOST.replace(/\/\/[^@/]*@/, "//…@")}` : ""}; tried: ${tried.join("; ")}. Install and start one, or set DOCKER_CLI to a client that has BuildKit.`,
  );
}

/** Runs the chosen docker client. */
export async function docker(
  args: readonly string[],
  options: Parameters<typeof runProcess>[2] = {},
): ReturnType<typeof runProcess> {
  const client = await findDockerClient();
  return runProcess(client.path, args, options);
}
