import type { ImageRecipe, RecipeOperation } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { dockerfileValue as v } from "./dockerfile-value.ts";

/** Where `withNewFile` contents are placed in the generated build context. */
export const GENERATED_FILES_DIR = ".airbyte-ci/new-files";

/** How one recipe operation was rendered. */
export interface RenderedStep {
  /** Index of the operation in the recipe. */
  readonly operation: number;
  readonly op: RecipeOperation["op"];
  /** The Dockerfile line(s) it became (a comment for operations that only change later RUNs). */
  readonly lines: readonly string[];
  /** True when BuildKit runs it as a build step of its own (FROM, RUN, COPY, WORKDIR). */
  readonly buildStep: boolean;
}

/** A rendered Dockerfile with what the build context must additionally hold. */
export interface RenderedDockerfile {
  /** The Dockerfile text. It builds as written with BuildKit (no `# syntax` line needed). */
  readonly dockerfile: string;
  /** Files to add to the build context, by context path (contents of `withNewFile`). */
  readonly generatedFiles: Readonly<Record<string, { contents: string; permissions?: number }>>;
  /** One entry per recipe operation, in order. */
  readonly steps: readonly RenderedStep[];
  /** Secret names the build must be given (`docker build --secret id=<name>,src=<file>`). */
  readonly secrets: readonly string[];
}

/** Escapes a word for Dockerfile variable substitution: `$` and `\` are taken literally. */
function literalWord(value: string): string {
  return value.replace(/[\\$]/g, "\\$&");
}
/** A JSON array for exec form (no substitution happens in RUN/ENTRYPOINT/CMD exec form). */
function execForm(args: readonly string[]): string {
  return JSON.stringify(args);
}
/** A JSON array for COPY, whose words do get variable substitution. */
function copyForm(args: readonly string[]): string {
  return JSON.stringify(args.map(literalWord));
}
function secretTarget(secret: string): string {
  return `/run/secrets/${secret}`;
}

/**
 * Renders a recipe to a Dockerfile, operation by operation, losslessly:
 * - `withExec` → `RUN` in exec form, with every active cache mount as `--mount=type=cache` and every
 *   secret variable as `--mount=type=secret` read into the variable by `/bin/sh` for that RUN only;
 * - `withEnvVariable`/`withLabel`/`withWorkdir`/`withUser` → their instructions, escaped so values
 *   are literal (Dagger does not expand `$` either);
 * - `withFile`/`withDirectory` → `COPY` from the build context; `withNewFile` → `COPY` of a generated
 *   context file (BuildKit 20.10 has no heredocs without a `# syntax` line, which would need Docker Hub);
 * - `withMountedCache`/`withoutMount`/`withSecretVariable` → a comment (they shape later RUNs).
 * Secret values never appear: only their names.
 */
export function renderDockerfile(recipe: ImageRecipe): RenderedDockerfile {
  const ops = recipe.operations;
  if (ops[0]?.op !== "from") {
    throw new ConnectorBuildError(
      "BUILD_FAILED",
      `cannot render the recipe: it must start with from(<digest-pinned address>), but starts with ${ops[0]?.op ?? "nothing"}`,
    );
  }
  const caches = new Map<string, { cache: string; sharing?: string }>();
  const secretVars = new Map<string, string>();
  const secrets = new Set<string>();
  const generatedFiles: Record<string, { contents: string; permissions?: number }> = {};
  const steps: RenderedStep[] = [];

  ops.forEach((op, index) => {
    const step = (lines: string[], buildStep: boolean) => steps.push({ operation: index, op: op.op, lines, buildStep });
    const at = `operation ${index} (${op.op})`;
    switch (op.op) {
      case "from":
        caches.clear();
        secretVars.clear();
        step([`FROM ${v("word", op.address, at)}`], true);
        break;
      case "withEnvVariable":
        step([`ENV ${v("env-name", op.name, at)}=${v("quoted", op.value, at)}`], false);
        break;
      case "withExec": {
        const mounts: string[] = [];
        for (const [path, c] of caches) {
          mounts.push(`--mount=type=cache,target=${v("mount", path, at)},id=${v("mount", c.cache, at)}${c.sharing ? `,sharing=${v("mount", c.sharing, at)}` : ""}`);
        }
        let argv = op.args;
        if (secretVars.size > 0) {
          const assignments: string[] = [];
          for (const [name, secret] of secretVars) {
            mounts.push(`--mount=type=secret,id=${v("mount", secret, at)},target=${v("mount", secretTarget(secret), at)},required=true`);
            assignments.push(`${v("env-name", name, at)}="$(cat ${secretTarget(secret)})"; export ${name};`);
          }
          argv = ["/bin/sh", "-c", `${assignments.join(" ")} exec "$@"`, "withSecretVariable", ...op.args];
        }
        step([`RUN ${mounts.map((m) => `${m} `).join("")}${execForm(argv)}`], true);
        break;
      }
      case "withWorkdir":
        step([`WORKDIR ${v("rest-of-line", op.path, at)}`], true);
        break;
      case "withFile":
        step([`COPY ${op.permissions !== undefined ? `--chmod=${op.permissions.toString(8).padStart(4, "0")} ` : ""}${copyForm([op.source, op.path])}`], true);
        break;
      case "withDirectory":
        step([`COPY ${copyForm([op.source.endsWith("/") ? op.source : `${op.source}/`, op.path])}`], true);
        break;
      case "withNewFile": {
        const contextPath = `${GENERATED_FILES_DIR}/${index}`;
        generatedFiles[contextPath] = { contents: op.contents, ...(op.permissions !== undefined ? { permissions: op.permissions } : {}) };
        const chmod = (op.permissions ?? 0o644).toString(8).padStart(4, "0");
        step([`COPY --chmod=${chmod} ${copyForm([contextPath, op.path])}`], true);
        break;
      }
      case "withLabel":
        step([`LABEL ${v("quoted", v("label-name", op.name, at), at)}=${v("quoted", op.value, at)}`], false);
        break;
      case "withEntrypoint":
        step([`ENTRYPOINT ${execForm(op.args)}`], false);
        break;
      case "withDefaultArgs":
        step([`CMD ${execForm(op.args)}`], false);
        break;
      case "withUser":
        step([`USER ${v("rest-of-line", op.name, at)}`], false);
        break;
      case "withMountedCache":
        caches.set(op.path, { cache: op.cache, ...(op.sharing ? { sharing: op.sharing } : {}) });
        step([`# withMountedCache ${v("mount", op.path, at)} (cache volume ${v("mount", op.cache, at)}): mounted on the RUN instructions below`], false);
        break;
      case "withoutMount":
        caches.delete(op.path);
        step([`# withoutMount ${v("comment", op.path, at)}`], false);
        break;
      case "withSecretVariable":
        secretVars.set(op.name, op.secret);
        secrets.add(op.secret);
        step([`# withSecretVariable ${v("env-name", op.name, at)} from secret '${v("mount", op.secret, at)}': mounted on the RUN instructions below, never stored`], false);
        break;
    }
  });
  const dockerfile = `${steps.flatMap((s) => s.lines).join("\n")}\n`;
  return { dockerfile, generatedFiles, steps, secrets: [...secrets] };
}
