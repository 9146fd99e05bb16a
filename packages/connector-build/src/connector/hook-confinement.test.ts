// Hooks start no process (a detached one would outlive the CLI) and are read once into plain data.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe } from "@airbyte-ci/base-images";
import type { HookContext } from "@airbyte-ci/hooks";
import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../errors.ts";
import { loadBuildCustomization, runHook } from "./build-customization.ts";

const BASE = ImageRecipe.empty().from(`127.0.0.1:5000/root:1@sha256:${"a".repeat(64)}`).withExec(["true"]);
const CONTEXT: HookContext = { connector: { technicalName: "source-x", dockerRepository: "airbyte/source-x", dockerImageTag: "0.1.0" }, platform: "linux/amd64", baseImageVersion: "1.0.0" };

function hookDir(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "hook-confinement-"));
  writeFileSync(join(dir, "build_customization.ts"), `import { defineBuildCustomization } from "@airbyte-ci/hooks";\n${body}\n`);
  return dir;
}

/** Processes whose command line holds `marker`. */
const processesWith = (marker: string) =>
  execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(marker) && !line.includes("ps -eo"));

describe("hooks start no process", () => {
  it("a hook spawning a detached process fails (exit 2) and nothing is left running", async () => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.5`;
    const dir = hookDir(
      `import { spawn } from "node:child_process";\nexport default defineBuildCustomization({\n  postConnectorInstall: (recipe) => {\n    spawn("sleep", ["${marker}"], { detached: true, stdio: "ignore" }).unref();\n    return recipe;\n  },\n});`,
    );
    const loaded = await loadBuildCustomization(dir, "source-x", { hookTimeoutMs: 10_000 });
    const error = await runHook("postConnectorInstall", loaded.customization.postConnectorInstall, BASE, CONTEXT, loaded.file).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/hook postConnectorInstall threw: a hook may not start processes \(child_process\.spawn\)/);
    expect(exitCodeFor(error)).toBe(2);
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
  });

  it("require('child_process') in a hook file is refused too, and the CLI's own child_process still works", async () => {
    const dir = hookDir(
      `const cp = require("node:child_process");\nexport default defineBuildCustomization({\n  postConnectorInstall: (recipe) => { cp.execFileSync("true"); return recipe; },\n});`,
    );
    const loaded = await loadBuildCustomization(dir, "source-x", { hookTimeoutMs: 10_000 });
    await expect(runHook("postConnectorInstall", loaded.customization.postConnectorInstall, BASE, CONTEXT, loaded.file)).rejects.toThrow(/may not start processes \(child_process\.execFileSync\)/);
    expect(execFileSync("echo", ["still here"], { encoding: "utf8" })).toBe("still here\n");
  });
});

describe("a customization is read once", () => {
  it("a mainFileName getter answering differently each time: validation and the build see the same value", async () => {
    const dir = hookDir(
      `let reads = 0;\nconst names = ["main.py", "../../etc/passwd"];\nexport default defineBuildCustomization({\n  get mainFileName() { return names[Math.min(reads++, 1)]; },\n});`,
    );
    // defineBuildCustomization checks the first value; the build must get that one, never the second.
    const loaded = await loadBuildCustomization(dir, "source-x", { hookTimeoutMs: 10_000 });
    expect(loaded.customization.mainFileName).toBe("main.py");
  });
});
