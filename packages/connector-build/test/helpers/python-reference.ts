// Test helper: runs the Python reference implementation of the
// notebook's get_dockerfile_variant, kept in test/__fixtures__/python/dockerfile_variant.py.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Path of the Python reference implementation. */
export const PYTHON_REFERENCE = fileURLToPath(
  new URL("../__fixtures__/python/dockerfile_variant.py", import.meta.url),
);

/** What the reference gives for one Dockerfile: an id, or the Python exception. */
export type PythonVariantResult = { id: string } | { error: string };

function runPython(args: string[], input?: string): string {
  // -X utf8: read_text() decodes UTF-8 whatever the machine's locale, as the notebook's machine did.
  const result = spawnSync("python3", ["-X", "utf8", PYTHON_REFERENCE, ...args], {
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new Error(`python3 is required to compare with the reference implementation: ${result.error.message}`);
  }
  if (result.status !== 0) throw new Error(`python3 ${PYTHON_REFERENCE} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

/** Variant ids from the Python reference, in one process for every request. */
export function pythonVariantIds(
  requests: ReadonlyArray<{ technicalName: string; codeDirectory: string }>,
): PythonVariantResult[] {
  const input = JSON.stringify(requests.map((r) => ({ technical_name: r.technicalName, code_directory: r.codeDirectory })));
  return JSON.parse(runPython([], input)) as PythonVariantResult[];
}

/** The code points Python's `str.strip()` removes. */
export function pythonWhitespace(): number[] {
  return JSON.parse(runPython(["--whitespace"])) as number[];
}
