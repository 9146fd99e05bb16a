import type { z } from "zod";

/** Formats zod issues as `where.path: message` lines: the one zod-issue formatter of the toolkit. */
export function formatZodIssues(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    return `${where}${path}: ${issue.message}`;
  });
}
