import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { runProcess } from "../../shared/process.ts";
import { findDockerClient } from "./docker-client.ts";

async function runDocker(docker: string, args: string[]) {
  try {
    return await runProcess(docker, args);
  } catch (error) {
    throw new ConnectorBuildError("ENGINE_UNAVAILABLE", `could not run ${docker} ${args[0]}: ${(error as Error).message}: set DOCKER_CLI to a Docker client`, { cause: error });
  }
}

/**
 * Loads an image tarball (`docker save` format) into the local Docker and tags it; returns the local
 * image id. Engines that build elsewhere (Dagger) hand their images to Docker through this, so that
 * every `docker` process is started by the Docker engine's module.
 *
 * @param dockerCli - the Docker client to run; default: the one {@link findDockerClient} finds.
 */
export async function loadTarballIntoDocker(tarball: string, tag: string, platform: string, dockerCli?: string): Promise<string> {
  const docker = dockerCli ?? (await findDockerClient()).path;
  const loaded = await runDocker(docker, ["load", "-i", tarball]);
  const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(loaded.stdout)?.[1];
  const name = /Loaded image: (\S+)/.exec(loaded.stdout)?.[1];
  const source = id ?? name;
  if (loaded.exitCode !== 0 || source === undefined) {
    throw new ConnectorBuildError("EXPORT_FAILED", `${docker} load did not load the ${platform} image: ${lastLines(`${loaded.stdout}\n${loaded.stderr}`, 5)}`);
  }
  const tagged = await runDocker(docker, ["tag", source, tag]);
  if (tagged.exitCode !== 0) {
    throw new ConnectorBuildError("EXPORT_FAILED", `could not tag ${source} as ${tag}: ${lastLines(tagged.stderr, 5)}`);
  }
  const inspected = await runDocker(docker, ["image", "inspect", "--format", "{{.Id}}", tag]);
  const imageId = inspected.stdout.trim();
  if (inspected.exitCode !== 0 || imageId === "") {
    throw new ConnectorBuildError("EXPORT_FAILED", `${tag} is not in the local Docker after loading: ${lastLines(inspected.stderr, 5)}`);
  }
  return imageId;
}
