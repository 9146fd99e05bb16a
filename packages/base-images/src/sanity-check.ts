import { z } from "zod";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What a command check expects; stdout is compared with surrounding whitespace trimmed. */
export const commandExpectationSchema = z
  .object({
    /** Expected exit code. Default: 0. */
    exitCode: z.number().int().min(0).max(255).optional(),
    /** Exact expected stdout (trimmed). */
    stdout: z.string().optional(),
    /** Regular expression stdout (trimmed) must match. */
    stdoutMatches: z
      .string()
      .refine((s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      }, "must be a valid regular expression")
      .optional(),
  })
  .strict();

/** zod schema of a sanity check: data, so a catalog carries its checks and any engine can run them. */
export const sanityCheckSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("command"),
      /** Short, unique name shown in reports. */
      name: z.string().min(1),
      /** The argv run in the image (entrypoint not used). */
      argv: z.array(z.string()).min(1),
      expect: commandExpectationSchema,
    })
    .strict(),
  z
    .object({
      kind: z.literal("env"),
      name: z.string().min(1),
      /** The environment variable that must be set. */
      variable: z.string().regex(ENV_NAME),
      /** Its expected value; absent when only presence is required (values that vary per build). */
      value: z.string().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("label"),
      name: z.string().min(1),
      /** The image label that must be set. */
      label: z.string().min(1),
      /** Its expected value; absent when only presence is required. */
      value: z.string().optional(),
    })
    .strict(),
]);

/** A sanity check: an argv plus what it must print, an env var, or a label. */
export type SanityCheck = z.infer<typeof sanityCheckSchema>;

/** The argv a check runs in the image (label checks read the image config and run nothing). */
export function sanityCheckArgv(check: SanityCheck): string[] | undefined {
  switch (check.kind) {
    case "command":
      return check.argv;
    case "env":
      return ["printenv", check.variable];
    case "label":
      return undefined;
  }
}

/** Human-readable statement of what a check expects. */
export function describeExpectation(check: SanityCheck): string {
  switch (check.kind) {
    case "command": {
      const parts = [`exit code ${check.expect.exitCode ?? 0}`];
      if (check.expect.stdout !== undefined) parts.push(`stdout '${check.expect.stdout}'`);
      if (check.expect.stdoutMatches !== undefined) parts.push(`stdout matching /${check.expect.stdoutMatches}/`);
      return parts.join(", ");
    }
    case "env":
      return check.value === undefined ? `${check.variable} set` : `${check.variable}=${check.value}`;
    case "label":
      return check.value === undefined ? `label ${check.label} set` : `label ${check.label}=${check.value}`;
  }
}

/** The outcome of one check, as seen in the image. */
export interface ObservedResult {
  /** Exit code of the argv (commands and env checks). */
  exitCode?: number;
  /** Its stdout. */
  stdout?: string;
  /** The label value, or undefined when the label is missing (label checks). */
  labelValue?: string | undefined;
}

/** Compares what was seen with what a check expects. Pure, so reports are testable without an engine. */
export function evaluateSanityCheck(check: SanityCheck, observed: ObservedResult): { passed: boolean; seen: string } {
  const stdout = (observed.stdout ?? "").trim();
  switch (check.kind) {
    case "command": {
      const expectedExit = check.expect.exitCode ?? 0;
      let passed = observed.exitCode === expectedExit;
      if (check.expect.stdout !== undefined) passed &&= stdout === check.expect.stdout;
      if (check.expect.stdoutMatches !== undefined) passed &&= new RegExp(check.expect.stdoutMatches).test(stdout);
      return { passed, seen: `exit code ${observed.exitCode}, stdout '${truncate(stdout)}'` };
    }
    case "env": {
      if (observed.exitCode !== 0) return { passed: false, seen: `${check.variable} not set` };
      const passed = check.value === undefined || stdout === check.value;
      return { passed, seen: `${check.variable}=${truncate(stdout)}` };
    }
    case "label": {
      if (observed.labelValue === undefined) return { passed: false, seen: `label ${check.label} missing` };
      const passed = check.value === undefined || observed.labelValue === check.value;
      return { passed, seen: `label ${check.label}=${observed.labelValue}` };
    }
  }
}

function truncate(s: string, max = 200): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
