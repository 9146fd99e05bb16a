import { ImageRecipe } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { loadProductionCatalog } from "@airbyte-ci/base-images";
import { daggerCallsFor } from "./dagger/lowering.ts";
import { renderDockerfile } from "../dockerfile/render.ts";

const ROOT = "docker.io/library/python:3.9.18-bookworm@sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58";

const KEYWORD: Record<string, string> = {
  from: "FROM",
  withEnvVariable: "ENV",
  withExec: "RUN",
  withWorkdir: "WORKDIR",
  withFile: "COPY",
  withDirectory: "COPY",
  withNewFile: "COPY",
  withLabel: "LABEL",
  withEntrypoint: "ENTRYPOINT",
  withDefaultArgs: "CMD",
  withUser: "USER",
  withMountedCache: "#",
  withoutMount: "#",
  withSecretVariable: "#",
};

/** Reads the value back out of a Dockerfile double-quoted string. */
function unquoteDocker(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, "$1");
}
function unwordDocker(s: string): string {
  return s.replace(/\\(.)/g, "$1");
}

function assertAgreement(recipe: ImageRecipe): void {
  const docker = renderDockerfile(recipe).steps;
  const dagger = daggerCallsFor(recipe, "linux/amd64");
  expect(dagger[0]).toEqual({ field: "container", args: { platform: "linux/amd64" } });
  expect(docker).toHaveLength(recipe.operations.length);
  expect(dagger).toHaveLength(recipe.operations.length + 1);
  const activeSecrets = new Map<string, string>();
  recipe.operations.forEach((op, i) => {
    const step = docker[i];
    const call = dagger[i + 1];
    expect(step?.operation).toBe(i);
    expect(call?.field).toBe(op.op);
    const line = step?.lines[0] ?? "";
    expect(line.startsWith(KEYWORD[op.op] as string)).toBe(true);
    const rest = line.replace(/^\S+ /, "");
    switch (op.op) {
      case "from":
        expect(rest).toBe(call?.args.address);
        break;
      case "withEnvVariable": {
        const [name, ...value] = rest.split("=");
        expect(name).toBe(call?.args.name);
        expect(unquoteDocker(value.join("="))).toBe(call?.args.value);
        break;
      }
      case "withLabel": {
        const m = /^("(?:[^"\\]|\\.)*")=("(?:[^"\\]|\\.)*")$/.exec(rest);
        expect(unquoteDocker(m?.[1] ?? "")).toBe(call?.args.name);
        expect(unquoteDocker(m?.[2] ?? "")).toBe(call?.args.value);
        break;
      }
      case "withExec": {
        const json = JSON.parse(rest.replace(/^(--mount=\S+ )*/, "")) as string[];
        // With secret variables the argv runs under a /bin/sh preamble that reads them; it ends with the same argv.
        const argv = activeSecrets.size > 0 ? json.slice(4) : json;
        expect(argv).toEqual(call?.args.args);
        break;
      }
      case "withEntrypoint":
      case "withDefaultArgs":
        expect(JSON.parse(rest)).toEqual(call?.args.args);
        break;
      case "withWorkdir":
        expect(unwordDocker(rest)).toBe(call?.args.path);
        break;
      case "withUser":
        expect(unwordDocker(rest)).toBe(call?.args.name);
        break;
      case "withFile":
      case "withDirectory": {
        const [source, target] = JSON.parse(rest.replace(/^--chmod=\d+ /, "")) as [string, string];
        expect(unwordDocker(target)).toBe(call?.args.path);
        expect(unwordDocker(source).replace(/\/$/, "")).toBe((call?.args.source as { hostFile?: string; hostDirectory?: string }).hostFile ?? (call?.args.source as { hostDirectory: string }).hostDirectory);
        break;
      }
      case "withNewFile": {
        const [, target] = JSON.parse(rest.replace(/^--chmod=\d+ /, "")) as [string, string];
        expect(unwordDocker(target)).toBe(call?.args.path);
        break;
      }
      case "withMountedCache":
        expect(line).toContain(`${op.path} (cache volume ${(call?.args.cache as { cacheVolume: string }).cacheVolume})`);
        break;
      case "withoutMount":
        expect(line).toContain(call?.args.path as string);
        break;
      case "withSecretVariable":
        activeSecrets.set(op.name, op.secret);
        expect(line).toContain(`withSecretVariable ${call?.args.name} from secret '${(call?.args.secret as { secret: string }).secret}'`);
        break;
    }
  });
}

describe("Docker and Dagger lowerings agree operation for operation", () => {
  it("on a recipe using every operation, with awkward values", () => {
    const recipe = ImageRecipe.empty()
      .from(ROOT)
      .withEnvVariable("QUOTED", 'a "b" $c \\d =e')
      .withWorkdir("/opt/my dir")
      .withFile("bin/run", "scripts/run.sh", { permissions: 0o755 })
      .withDirectory("/data", "pkg")
      .withNewFile("/etc/x.conf", "k=v\n", { permissions: 0o600 })
      .withMountedCache("/root/.cache/pip", "pip-cache", { sharing: "locked" })
      .withSecretVariable("PIP_INDEX_URL", "index-url")
      .withExec(["sh", "-c", 'echo "$1"', "sh", "it's\nmulti-line"])
      .withoutMount("/root/.cache/pip")
      .withLabel("org.example.x", 'v "1"')
      .withEntrypoint(["python", "/airbyte/integration_code/main.py"])
      .withDefaultArgs(["spec"])
      .withUser("airbyte");
    assertAgreement(recipe);
  });

  it("on every production base image version and platform", () => {
    for (const version of loadProductionCatalog().versions) {
      for (const platform of version.platforms) assertAgreement(version.recipeFor(platform));
    }
  });
});
