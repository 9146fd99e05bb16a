import { SUPPORTED_PLATFORMS, isPlatform } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import type { ResolveImageOptions, ResolvedImage } from "../engine.ts";
import { docker } from "./docker-client.ts";

interface DockerInspect {
  Id: string;
  Os?: string;
  Architecture?: string;
  Variant?: string;
}

async function inspectLocal(reference: string): Promise<DockerInspect | undefined> {
  const result = await docker(["image", "inspect", "--format", "{{json .}}", reference]);
  if (result.exitCode !== 0) return undefined;
  const parsed = JSON.parse(result.stdout) as DockerInspect | DockerInspect[];
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

const IMAGE_ID = /^(sha256:)?[0-9a-f]{12,64}$/;

function resolvedFrom(reference: string, data: DockerInspect): ResolvedImage {
  const platform = `${data.Os ?? "linux"}/${data.Architecture ?? "amd64"}`;
  if (!isPlatform(platform)) {
    throw new ConnectorBuildError("USAGE", `image ${reference} is for ${platform}${data.Variant ? `/${data.Variant}` : ""}: expected one of ${SUPPORTED_PLATFORMS.join(", ")}`);
  }
  return { reference, id: data.Id, image: { engine: "docker", platform, ref: data.Id } };
}

/**
 * The image the local Docker holds under `reference` (never pulled), or undefined.
 *
 * @throws ConnectorBuildError `USAGE` when it is for a platform the toolkit does not run.
 */
export async function findLocalDockerImage(reference: string): Promise<ResolvedImage | undefined> {
  const trimmed = reference.trim();
  if (trimmed === "" || trimmed.startsWith("-")) return undefined;
  const data = await inspectLocal(trimmed);
  return data ? resolvedFrom(trimmed, data) : undefined;
}

/**
 * Resolves an image reference in the local Docker: the image is used when present (its platform is
 * read from `docker image inspect`), else pulled (`docker pull --platform`), then addressed by its
 * image id so that every probe runs on the same image.
 *
 * @throws ConnectorBuildError `USAGE` when the image is neither local nor pullable, or is for a
 * platform the toolkit does not run (anything but linux/amd64 and linux/arm64).
 */
export async function resolveDockerImage(reference: string, options: ResolveImageOptions = {}): Promise<ResolvedImage> {
  const trimmed = reference.trim();
  if (trimmed === "") throw new ConnectorBuildError("USAGE", "empty image reference: expected repo:tag, registry/repo@sha256:… or an image id");
  let data = await inspectLocal(trimmed);
  if (!data) {
    if (IMAGE_ID.test(trimmed)) {
      throw new ConnectorBuildError("USAGE", `image ${trimmed} is not in the local Docker (an image id cannot be pulled)`);
    }
    const pullPlatform = options.platform ?? "linux/amd64";
    const pull = await docker(["pull", "--quiet", "--platform", pullPlatform, trimmed]);
    if (pull.exitCode !== 0) {
      throw new ConnectorBuildError(
        "USAGE",
        `image ${trimmed} is not in the local Docker and could not be pulled for ${pullPlatform}: ${lastLines(pull.stderr || pull.stdout, 3) || `docker pull exited with ${pull.exitCode}`}`,
      );
    }
    data = await inspectLocal(trimmed);
    if (!data) throw new ConnectorBuildError("USAGE", `image ${trimmed} was pulled but cannot be inspected`);
  }
  return resolvedFrom(trimmed, data);
}
