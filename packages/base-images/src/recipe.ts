import { posix } from "node:path";
import { z } from "zod";
import { formatZodIssues } from "./zod-issues.ts";
import { BaseImagesError } from "./errors.ts";
import { formatImageAddress, parseImageAddress } from "./image-address.ts";

const RECIPE_MARKER = Symbol.for("@airbyte-ci/image-recipe");
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z0-9_.-]+$/;
const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

const noNewline = (what: string) =>
  z.string().refine((s) => !/[\r\n\0]/.test(s), { message: `${what} must be a single line (no newline or NUL)` });
const containerPath = noNewline("a container path").pipe(z.string().min(1, "a container path cannot be empty"));
/** A path inside the build context: relative, normalised, and never reaching outside it. */
const contextPath = z
  .string()
  .min(1, "a build context path cannot be empty")
  .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(p), {
    message: "must be relative to the build context, not absolute",
  })
  .refine((p) => !p.includes("\\") && !/[\r\n\0]/.test(p), { message: "must use '/' separators and be a single line" })
  .refine((p) => {
    const n = posix.normalize(p);
    return n !== ".." && !n.startsWith("../");
  }, { message: "reaches outside the build context" });
const argv = z.array(z.string().refine((s) => !s.includes("\0"), { message: "arguments cannot contain NUL" }));

/** zod schema of one recipe operation; the union is the whole vocabulary engines must support. */
export const recipeOperationSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("from"), address: z.string().min(1) }).strict(),
  z
    .object({
      op: z.literal("withEnvVariable"),
      name: z.string().regex(ENV_NAME, "must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
      value: noNewline("an environment variable value"),
    })
    .strict(),
  z.object({ op: z.literal("withExec"), args: argv.min(1, "withExec needs at least the program to run") }).strict(),
  z.object({ op: z.literal("withWorkdir"), path: containerPath }).strict(),
  z
    .object({
      op: z.literal("withFile"),
      path: containerPath,
      source: contextPath,
      permissions: z.number().int().min(0).max(0o7777).optional(),
    })
    .strict(),
  z.object({ op: z.literal("withDirectory"), path: containerPath, source: contextPath }).strict(),
  z
    .object({
      op: z.literal("withNewFile"),
      path: containerPath,
      contents: z.string(),
      permissions: z.number().int().min(0).max(0o7777).optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal("withLabel"),
      name: z.string().regex(LABEL_NAME, "must be a label key such as io.airbyte.version"),
      value: noNewline("a label value"),
    })
    .strict(),
  z.object({ op: z.literal("withEntrypoint"), args: argv }).strict(),
  z.object({ op: z.literal("withDefaultArgs"), args: argv }).strict(),
  z.object({ op: z.literal("withUser"), name: noNewline("a user").pipe(z.string().min(1)) }).strict(),
  z
    .object({
      op: z.literal("withMountedCache"),
      path: containerPath,
      cache: z.string().regex(SECRET_NAME, "must be a cache volume name ([A-Za-z0-9_.-]+)"),
      sharing: z.enum(["shared", "private", "locked"]).optional(),
    })
    .strict(),
  z.object({ op: z.literal("withoutMount"), path: containerPath }).strict(),
  z
    .object({
      op: z.literal("withSecretVariable"),
      name: z.string().regex(ENV_NAME, "must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
      secret: z.string().regex(SECRET_NAME, "must be a secret name ([A-Za-z0-9_.-]+)"),
    })
    .strict(),
]);

/** One plain, serialisable step of an image recipe. */
export type RecipeOperation = z.infer<typeof recipeOperationSchema>;
/** The name of a recipe operation (`from`, `withExec`, …). */
export type RecipeOperationName = RecipeOperation["op"];

/** zod schema of a whole recipe: an array of operations. */
export const recipeSchema = z.array(recipeOperationSchema);

function formatIssues(error: z.ZodError, where: string): string {
  return formatZodIssues(error, where).join("; ");
}

function freezeOperation<T extends RecipeOperation>(op: T): T {
  for (const value of Object.values(op)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(op);
}

function checked(op: RecipeOperation, where: string): RecipeOperation {
  const result = recipeOperationSchema.safeParse(op);
  if (!result.success) {
    throw new BaseImagesError("INVALID_RECIPE", `invalid ${op.op} operation: ${formatIssues(result.error, where)}`);
  }
  const value = result.data;
  if (value.op === "from") {
    // Digest-pinned only; stored in the full, normalised form.
    return { op: "from", address: formatImageAddress(parseImageAddress(value.address, `${where} from`)) };
  }
  if (value.op === "withFile" || value.op === "withDirectory") {
    return { ...value, source: posix.normalize(value.source) };
  }
  return value;
}

/**
 * An immutable, chainable description of how to build an image. Method names mirror Dagger's
 * Container API; every call returns a new recipe with one more plain operation. Base images, the
 * connector build and hooks all speak it; engines only execute it.
 */
export class ImageRecipe {
  /** On the prototype, so a spread copy (`{ ...recipe }`) is not taken for a recipe. */
  private get [RECIPE_MARKER](): true {
    return true;
  }
  /** The operations, in order. Frozen. */
  readonly operations: readonly RecipeOperation[];

  private constructor(operations: readonly RecipeOperation[]) {
    this.operations = Object.freeze(operations.slice());
  }

  /** A recipe with no operations (a fragment until `from` is applied). */
  static empty(): ImageRecipe {
    return new ImageRecipe([]);
  }

  /** Validates plain operations (from JSON, say) into a recipe; every problem is reported with its index. */
  static fromOperations(operations: unknown, where = "recipe"): ImageRecipe {
    const parsed = recipeSchema.safeParse(operations);
    if (!parsed.success) {
      throw new BaseImagesError("INVALID_RECIPE", `invalid recipe: ${formatIssues(parsed.error, where)}`);
    }
    return new ImageRecipe(parsed.data.map((op, i) => freezeOperation(checked(op, `${where}[${i}]`))));
  }

  /** True for a recipe made by any copy of this package (hook files load their own copy). */
  static isInstance(value: unknown): value is ImageRecipe {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[RECIPE_MARKER] === true &&
      Array.isArray((value as { operations?: unknown }).operations)
    );
  }

  private push(op: RecipeOperation): ImageRecipe {
    return new ImageRecipe([...this.operations, freezeOperation(checked(op, `operation ${this.operations.length}`))]);
  }

  /** Starts from a digest-pinned image (Dagger `from`, Docker `FROM`). Tag-only references are refused. */
  from(address: string): ImageRecipe {
    return this.push({ op: "from", address });
  }
  /** Sets an environment variable, literally (no `$` expansion). */
  withEnvVariable(name: string, value: string): ImageRecipe {
    return this.push({ op: "withEnvVariable", name, value });
  }
  /** Runs a program, exec form: no shell unless you call one. */
  withExec(args: readonly string[]): ImageRecipe {
    return this.push({ op: "withExec", args: [...args] });
  }
  /** Sets the working directory, created when missing. */
  withWorkdir(path: string): ImageRecipe {
    return this.push({ op: "withWorkdir", path });
  }
  /** Copies one file from the build context to `path` (relative paths are relative to the workdir). */
  withFile(path: string, source: string, options: { permissions?: number } = {}): ImageRecipe {
    return this.push({ op: "withFile", path, source, ...(options.permissions !== undefined ? { permissions: options.permissions } : {}) });
  }
  /** Copies a directory of the build context to `path`. */
  withDirectory(path: string, source: string): ImageRecipe {
    return this.push({ op: "withDirectory", path, source });
  }
  /** Writes a file with the given contents. */
  withNewFile(path: string, contents: string, options: { permissions?: number } = {}): ImageRecipe {
    return this.push({ op: "withNewFile", path, contents, ...(options.permissions !== undefined ? { permissions: options.permissions } : {}) });
  }
  /** Sets an image label. */
  withLabel(name: string, value: string): ImageRecipe {
    return this.push({ op: "withLabel", name, value });
  }
  /** Sets the entrypoint. */
  withEntrypoint(args: readonly string[]): ImageRecipe {
    return this.push({ op: "withEntrypoint", args: [...args] });
  }
  /** Sets the default arguments (Docker `CMD`). */
  withDefaultArgs(args: readonly string[]): ImageRecipe {
    return this.push({ op: "withDefaultArgs", args: [...args] });
  }
  /** Sets the user following operations and the image run as. */
  withUser(name: string): ImageRecipe {
    return this.push({ op: "withUser", name });
  }
  /** Mounts a persistent cache volume at `path` for the following `withExec`s (never in the image). */
  withMountedCache(path: string, cache: string, options: { sharing?: "shared" | "private" | "locked" } = {}): ImageRecipe {
    return this.push({ op: "withMountedCache", path, cache, ...(options.sharing !== undefined ? { sharing: options.sharing } : {}) });
  }
  /** Removes a mount added by {@link withMountedCache}. */
  withoutMount(path: string): ImageRecipe {
    return this.push({ op: "withoutMount", path });
  }
  /**
   * Exposes the secret named `secret` (its value is given to the engine at build time) as the
   * environment variable `name` of the following `withExec`s. The value never lands in a layer,
   * a label, a rendered Dockerfile or a log.
   */
  withSecretVariable(name: string, secret: string): ImageRecipe {
    return this.push({ op: "withSecretVariable", name, secret });
  }
  /** Applies a function to this recipe (Dagger's `with`): reusable fragments read as one chain. */
  with(fn: (recipe: ImageRecipe) => ImageRecipe): ImageRecipe {
    const result = fn(this);
    if (!ImageRecipe.isInstance(result)) {
      throw new BaseImagesError("INVALID_RECIPE", `with(): the function returned ${describe(result)}, expected an ImageRecipe`);
    }
    return result;
  }
  /** Appends the operations of another recipe (or plain operations). */
  concat(other: ImageRecipe | readonly RecipeOperation[]): ImageRecipe {
    const ops = ImageRecipe.isInstance(other) ? other.operations : ImageRecipe.fromOperations(other).operations;
    return new ImageRecipe([...this.operations, ...ops]);
  }

  /** The address of the image this recipe starts from (its last `from`), if any. */
  get baseAddress(): string | undefined {
    for (let i = this.operations.length - 1; i >= 0; i--) {
      const op = this.operations[i];
      if (op?.op === "from") return op.address;
    }
    return undefined;
  }

  /** Names of the secrets the recipe needs at build time. */
  get secretNames(): string[] {
    return [...new Set(this.operations.flatMap((op) => (op.op === "withSecretVariable" ? [op.secret] : [])))];
  }

  /** Plain operations, for JSON. */
  toJSON(): RecipeOperation[] {
    return this.operations.map((op) => structuredClone(op) as RecipeOperation);
  }
}

/** Describes a value for an error message ("undefined", "a string", "an object without operations"). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object (${Object.keys(value).slice(0, 5).join(", ") || "no keys"})`;
  return `a ${typeof value}`;
}
