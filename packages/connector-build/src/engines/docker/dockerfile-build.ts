import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { runProcess } from "../../shared/process.ts";
import { dockerignoreRuleHiding, readDockerignore } from "../../dockerfile/dockerignore.ts";
import type { BuiltImage, DockerfileBuildRequest } from "../engine.ts";
import type { ChildProcess } from "node:child_process";
import { registerCleanup } from "../../shared/cleanup.ts";
import { findDockerClient } from "./docker-client.ts";

/** Explains a "not found" context file: the .dockerignore rule that hid it, when one did. */
function explainMissing(contextDir: string, output: string): string {
  const missing = /"\/?([^"]+)" not found/.exec(output)?.[1] ?? /failed to walk [^:]*\/([^/:]+): lstat/.exec(output)?.[1];
  if (missing === undefined) return "";
  const rules = readDockerignore(contextDir);
  const rule = rules ? dockerignoreRuleHiding(rules, missing) : undefined;
  if (rule) return `\n'${missing}' is hidden from the build by ${join(contextDir, ".dockerignore")} line ${rule.line} ('${rule.text}'): add '!${missing}' to it`;
  if (existsSync(join(contextDir, missing))) return `\n'${missing}' exists in ${contextDir} but was not sent to the build`;
  return `\n'${missing}' does not exist in the build context ${contextDir}`;
}

/** `docker build` of a Dockerfile text with the given context, BuildKit, host network, one platform. */
export async function buildDockerfileWithDocker(request: DockerfileBuildRequest, workRoot: string): Promise<BuiltImage> {
  const client = await findDockerClient();
  const work = mkdtempSync(join(workRoot, "airbyte-ci-dockerfile-"));
  let child: ChildProcess | undefined;
  // On an interrupt: the build client stopped (BuildKit cancels the build), the folder removed.
  const unregister = registerCleanup(() => {
    child?.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  });
  try {
    const dockerfile = join(work, "Dockerfile");
    writeFileSync(dockerfile, request.dockerfile);
    const iid = join(work, "iid");
    const context = resolve(request.contextDir);
    const args = [
      ...(client.buildkit === "buildx" ? ["buildx", "build", "--load"] : ["build"]),
      "--progress=plain",
      "--platform",
      request.platform,
      "--network",
      "host",
      "--iidfile",
      iid,
      "-f",
      dockerfile,
      context,
    ];
    const lines: string[] = [];
    const collect = (line: string) => {
      lines.push(line);
      request.onProgress?.(line);
    };
    const result = await runProcess(client.path, args, { env: { ...process.env, DOCKER_BUILDKIT: "1" }, onStderrLine: collect, onStdoutLine: collect, onSpawn: (spawned) => (child = spawned) });
    if (result.exitCode !== 0 || !existsSync(iid)) {
      const output = lines.join("\n");
      throw new ConnectorBuildError("BUILD_FAILED", `docker build of the Dockerfile in ${context} for ${request.platform} failed:\n${lastLines(output, 12)}${explainMissing(context, output)}`);
    }
    return { engine: "docker", platform: request.platform, ref: readFileSync(iid, "utf8").trim() };
  } finally {
    unregister();
    rmSync(work, { recursive: true, force: true });
  }
}
