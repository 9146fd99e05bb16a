import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { RecipeOperation } from "@airbyte-ci/base-images";
import type { HookContext } from "@airbyte-ci/hooks";
import { ConnectorBuildError } from "../errors.ts";

/** How long one hook (or loading the hook file) may take by default: 60 s. */
export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

/** What a worker answers. */
type Reply =
  | { kind: "loaded"; mainFileName?: string; hooks: string[] }
  | { kind: "recipe"; operations: RecipeOperation[] }
  | { kind: "load-error" | "invalid" | "threw" | "crash"; message: string }
  | { kind: "no-default"; exports: string[] }
  | { kind: "not-a-recipe"; description: string };

/** A task for a worker: load and validate the file, or also run one hook on a recipe. */
export type HookTask =
  | { kind: "load"; where: string }
  | { kind: "run"; where: string; hook: "preConnectorInstall" | "postConnectorInstall"; operations: readonly RecipeOperation[]; context: HookContext };

// Plain JavaScript, evaluated as the worker's script: no file to ship or resolve beside the build
// output. It loads the hook file with jiti (TypeScript, no compile step), validates the default
// export with @airbyte-ci/hooks, and answers with plain data only: the recipe comes back as its
// serialised operations, so nothing the hook made (a function, a getter, a subclass) crosses over.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { file, alias, jitiUrl, task, exitFlag } = workerData;
// Tell the parent synchronously that process.exit was called (a message might not arrive before the
// thread ends); a worker that ends without it ran out of work with its promise unsettled.
const realExit = process.exit.bind(process);
process.exit = (code) => { Atomics.store(new Int32Array(exitFlag), 0, 1); realExit(code); };
const send = (reply) => parentPort.postMessage(reply);
const firstLine = (e) => String((e && e.message) || e).split("\\n").slice(0, 3).join(" ").trim();
(async () => {
  const { createJiti } = await import(jitiUrl);
  const jiti = createJiti(file, { alias, moduleCache: false, fsCache: true, interopDefault: false });
  // A hook extends the recipe; it starts no process (one could outlive the CLI, detached in its own
  // process group). Only this worker's copy of child_process is replaced: the CLI's is untouched.
  const childProcess = require("node:child_process");
  for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
    childProcess[name] = () => { throw new Error("a hook may not start processes (child_process." + name + "): expected it to extend the recipe; a command belongs in the image, as recipe.withExec([...])"); };
  }
  require("node:module").syncBuiltinESMExports();
  let mod;
  try { mod = await jiti.import(file); } catch (e) { return send({ kind: "load-error", message: firstLine(e) }); }
  if (!mod || typeof mod !== "object" || !("default" in mod) || mod.default === undefined) {
    return send({ kind: "no-default", exports: Object.keys(mod || {}) });
  }
  const hooks = await jiti.import(alias["@airbyte-ci/hooks"]);
  const base = await jiti.import(alias["@airbyte-ci/base-images"]);
  // validateBuildCustomization answers plain data read once: the build sees what it checked.
  let customization;
  try { customization = hooks.validateBuildCustomization(mod.default, task.where); }
  catch (e) { return send({ kind: "invalid", message: e.message }); }
  if (task.kind === "load") {
    return send({ kind: "loaded", mainFileName: customization.mainFileName,
      hooks: ["preConnectorInstall", "postConnectorInstall"].filter((h) => customization[h] !== undefined) });
  }
  const recipe = base.ImageRecipe.fromOperations(task.operations);
  let result;
  try { result = await customization[task.hook](recipe, task.context); }
  catch (e) { return send({ kind: "threw", message: firstLine(e) }); }
  if (!base.ImageRecipe.isInstance(result)) return send({ kind: "not-a-recipe", description: base.describe(result) });
  send({ kind: "recipe", operations: JSON.parse(JSON.stringify(result.operations)) });
})().catch((e) => send({ kind: "crash", message: firstLine(e) }));
`;

/**
 * Runs one task on a hook file in a worker thread of its own, so that nothing a hook does can pass
 * for success: `process.exit()` in a worker ends only that worker; a promise that never settles or
 * an endless loop is cut by `terminate()` after `timeoutMs` (a timer in the same thread could never
 * fire during a loop, and a child process would cost a Node start per hook); the recipe comes back
 * as plain operations that the caller validates. Every failure names the connector, file and hook.
 */
export function runHookTask(file: string, alias: Readonly<Record<string, string>>, task: HookTask, timeoutMs: number): Promise<Reply & { kind: "loaded" | "recipe" }> {
  const where = task.where;
  const fail = (message: string) => new ConnectorBuildError("HOOK_FAILED", `${where} ${message}`);
  const jitiUrl = pathToFileURL(createRequire(import.meta.url).resolve("jiti")).href;
  return new Promise((resolve, reject) => {
    const exitFlag = new SharedArrayBuffer(4);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, alias, jitiUrl, task, exitFlag }, stdout: false, stderr: false });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () => settle(() => reject(fail(`did not return within ${timeoutMs / 1000} s (a promise that never settles, or an endless loop): expected it to return the recipe; raise --hook-timeout if it needs longer`))),
      timeoutMs,
    );
    worker.on("message", (reply: Reply) =>
      settle(() => {
        switch (reply.kind) {
          case "loaded":
          case "recipe":
            return resolve(reply);
          case "load-error":
            return reject(new ConnectorBuildError("HOOK_FAILED", `${where.replace(/^(connector [^:]+): (.*?)(: hook \w+)?$/, "$1: cannot load $2")}: ${reply.message}`));
          case "no-default":
            return reject(
              fail(`has no default export (exports: ${reply.exports.join(", ") || "none"}): expected export default defineBuildCustomization({...})`),
            );
          case "invalid":
            return reject(new ConnectorBuildError("HOOK_FAILED", reply.message));
          case "threw":
            return reject(fail(`threw: ${reply.message}`));
          case "not-a-recipe":
            return reject(fail(`returned ${reply.description}: expected the recipe (an ImageRecipe) it was given, extended`));
          case "crash":
            return reject(fail(`failed: ${reply.message}`));
        }
      }),
    );
    worker.on("error", (error) => settle(() => reject(fail(`failed: ${error.message}`))));
    worker.on("exit", (code) =>
      settle(() =>
        reject(
          Atomics.load(new Int32Array(exitFlag), 0) === 1
            ? fail(`called process.exit(${code}) instead of returning the recipe: expected it to return the recipe`)
            : fail("returned a promise that can never settle (nothing was left pending): expected it to resolve to the recipe"),
        ),
      ),
    );
  });
}
