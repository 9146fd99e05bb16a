import { ConnectorBuildError } from "../errors.ts";
import { findDockerClient } from "./docker/docker-client.ts";
import { DockerEngine } from "./docker/docker-engine.ts";
import type { Engine } from "./engine.ts";
import type { RegistryClient } from "../registry/registry-client.ts";

/** `--engine` values. */
export type EngineChoice = "auto" | "docker" | "dagger";

/**
 * Picks the engine: `auto` uses Dagger when a session (DAGGER_SESSION_PORT + DAGGER_SESSION_TOKEN,
 * or _EXPERIMENTAL_DAGGER_RUNNER_HOST) or a `dagger` CLI is present, else Docker; when neither is
 * usable, one error says what was looked for. `options.registry`: the client the Docker engine
 * publishes through (Dagger pushes through its own engine).
 */
export async function selectEngine(choice: EngineChoice = "auto", options: { registry?: RegistryClient } = {}): Promise<Engine> {
  const { DaggerEngine, daggerCliAvailable, daggerSessionAvailable } = await import("./dagger/dagger-engine.ts");
  if (choice === "dagger") {
    if (!daggerSessionAvailable() && !daggerCliAvailable()) {
      throw new ConnectorBuildError(
        "ENGINE_UNAVAILABLE",
        "--engine dagger: no Dagger session (DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN, or _EXPERIMENTAL_DAGGER_RUNNER_HOST) and no `dagger` CLI on PATH",
      );
    }
    return new DaggerEngine();
  }
  if (choice === "auto" && (daggerSessionAvailable() || daggerCliAvailable())) return new DaggerEngine();
  try {
    await findDockerClient();
  } catch (error) {
    if (choice === "docker") throw error;
    throw new ConnectorBuildError(
      "ENGINE_UNAVAILABLE",
      `--engine auto: no usable engine: looked for a Dagger session (DAGGER_SESSION_PORT + DAGGER_SESSION_TOKEN, _EXPERIMENTAL_DAGGER_RUNNER_HOST), a \`dagger\` CLI on PATH, and a Docker client with BuildKit and a running daemon (${(error as Error).message})`,
      { cause: error },
    );
  }
  return new DockerEngine(options.registry !== undefined ? { registry: options.registry } : {});
}
