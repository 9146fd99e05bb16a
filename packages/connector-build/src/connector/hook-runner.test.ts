// Issue #16, class 4: hooks run in a worker thread; every way out other than a recipe is an error
// naming the connector, the file and the hook.
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

function hookFile(body: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "harden-hook-"));
  const file = join(dir, "build_customization.ts");
  writeFileSync(file, `import { defineBuildCustomization } from "@airbyte-ci/hooks";\n${body}\n`);
  return { dir, file };
}

/** Loads the file and runs its postConnectorInstall hook; returns the recipe or the error. */
async function run(body: string, hookTimeoutMs = 10_000): Promise<{ recipe?: ImageRecipe; error?: Error; file: string }> {
  const { dir, file } = hookFile(body);
  try {
    const loaded = await loadBuildCustomization(dir, "source-x", { hookTimeoutMs });
    const recipe = await runHook("postConnectorInstall", loaded.customization.postConnectorInstall, BASE, CONTEXT, loaded.file);
    return { recipe, file };
  } catch (error) {
    return { error: error as Error, file };
  }
}

function expectHookError(result: { error?: Error; file: string }, message: RegExp): void {
  expect(result.error, "expected an error").toBeDefined();
  expect(exitCodeFor(result.error)).toBe(2);
  expect(result.error?.message).toContain(`connector source-x: ${result.file}`);
  expect(result.error?.message).toMatch(message);
}

describe("hooks run isolated in a worker thread", () => {
  it("a well-behaved hook extends the recipe, which comes back as validated operations", async () => {
    const result = await run(`export default defineBuildCustomization({ mainFileName: "main_dev.py", postConnectorInstall: (r, c) => r.withEnvVariable("NAME", c.connector.technicalName) });`);
    expect(result.error).toBeUndefined();
    expect(result.recipe?.operations.at(-1)).toEqual({ op: "withEnvVariable", name: "NAME", value: "source-x" });
  });

  it("process.exit(0) inside a hook is an error, not a silent success", async () => {
    expectHookError(await run(`export default defineBuildCustomization({ postConnectorInstall: () => process.exit(0) });`), /hook postConnectorInstall called process\.exit\(0\) instead of returning the recipe/);
  });

  it("a file without a default export", async () => {
    expectHookError(await run(`export const postConnectorInstall = (r) => r;`), /has no default export \(exports: postConnectorInstall\): expected export default defineBuildCustomization/);
  });

  it("a misspelled key (postConnectorInstal) in a plain default export", async () => {
    expectHookError(await run(`export default { postConnectorInstal: (r) => r };`), /unknown key 'postConnectorInstal': expected mainFileName, preConnectorInstall or postConnectorInstall/);
  });

  it("from(...) in a hook may not change the base image", async () => {
    expectHookError(
      await run(`export default defineBuildCustomization({ postConnectorInstall: (r) => r.from("127.0.0.1:5000/other:1@sha256:${"b".repeat(64)}") });`),
      /hook postConnectorInstall called from\(\.\.\.\) \(operation 2\): a hook may not change the base image/,
    );
  });

  it("a hook that never resolves: found when nothing is left pending, else stopped at --hook-timeout", async () => {
    expectHookError(
      await run(`export default defineBuildCustomization({ postConnectorInstall: () => new Promise(() => {}) });`),
      /hook postConnectorInstall returned a promise that can never settle \(nothing was left pending\)/,
    );
    expectHookError(
      await run(`export default defineBuildCustomization({ postConnectorInstall: () => new Promise(() => { setInterval(() => {}, 1000); }) });`, 4000),
      /hook postConnectorInstall did not return within 4 s/,
    );
  });

  it("an endless loop is stopped at --hook-timeout (the worker is terminated)", async () => {
    expectHookError(await run(`export default defineBuildCustomization({ postConnectorInstall: () => { for (;;) {} } });`, 4000), /hook postConnectorInstall did not return within 4 s/);
  });

  it("a hook that throws, or returns something else, still says which hook", async () => {
    expectHookError(await run(`export default defineBuildCustomization({ postConnectorInstall: () => { throw new Error("no token"); } });`), /hook postConnectorInstall threw: no token/);
    expectHookError(await run(`export default defineBuildCustomization({ postConnectorInstall: () => ({ operations: [] }) });`), /hook postConnectorInstall returned an object .*: expected the recipe/);
  });
});
