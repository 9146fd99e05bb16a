import { createHash } from "node:crypto";

/**
 * A port of the 2023 analysis notebook's `get_dockerfile_variant`, quirks included, so that the
 * variant ids computed here are identical to the ones the notebook computed:
 *
 * ```python
 * dockerfile = Path(connector.code_directory / "Dockerfile").read_text()
 * dockerfile = dockerfile.replace(connector.technical_name, "connector-technical-name")
 * dockerfile = dockerfile.replace(connector.technical_name.replace("-", "_"), "connector_technical_name")
 * for line in dockerfile.splitlines():
 *     if line.startswith("#"): dockerfile = dockerfile.replace(line, "")
 *     if line.startswith("LABEL io.airbyte.version"): dockerfile = dockerfile.replace(line, "")
 * dockerfile = "\n".join([line for line in dockerfile.split("\n") if line.strip() != ""])
 * dockerfile = "\n".join([line.strip() for line in dockerfile.split("\n")])
 * return hashlib.sha256(dockerfile.encode()).hexdigest()[:7]
 * ```
 *
 * Each Python built-in is reproduced with its own semantics (`read_text`, `splitlines`, `strip`),
 * which differ from their nearest JavaScript counterparts.
 */

/**
 * Characters Python's `str.isspace()` (hence argument-less `str.strip()`) treats as whitespace.
 * Differs from JavaScript's `trim()`: includes U+001C–U+001F and U+0085, excludes U+FEFF.
 */
export const PYTHON_WHITESPACE: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Line boundaries of Python's `str.splitlines()`; `\r\n` counts as one. */
// eslint-disable-next-line no-control-regex -- Python splits on these control characters too.
const PYTHON_LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python's `str.strip()` without argument. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  // Every Python whitespace character is in the BMP: code units are code points here.
  while (start < end && PYTHON_WHITESPACE.has(text.charCodeAt(start))) start++;
  while (end > start && PYTHON_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python's `str.splitlines()` (without `keepends`): no trailing empty item, `[]` for `""`. */
export function pythonSplitlines(text: string): string[] {
  const lines = text.split(PYTHON_LINE_BOUNDARY);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Raised by {@link decodePythonText} for bytes that are not UTF-8. */
export class InvalidUtf8Error extends Error {
  /** Offset of the first byte that cannot be decoded. */
  readonly offset: number;
  /** That byte's value. */
  readonly byte: number;

  constructor(offset: number, byte: number, reason: string) {
    super(
      `not valid UTF-8: ${reason} 0x${byte.toString(16).padStart(2, "0")} at byte ${offset} ` +
        "(Python's Path.read_text() raises UnicodeDecodeError on it)",
    );
    this.name = "InvalidUtf8Error";
    this.offset = offset;
    this.byte = byte;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes as Python's `Path.read_text()` does with a UTF-8 locale: strict UTF-8, a leading
 * BOM kept as U+FEFF, universal newlines (`\r\n` and lone `\r` become `\n`).
 *
 * @throws InvalidUtf8Error on bytes that are not UTF-8, as Python would raise UnicodeDecodeError.
 */
export function decodePythonText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw firstInvalidUtf8(bytes);
  }
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

/** Finds the first offending byte, for the error message. */
function firstInvalidUtf8(bytes: Uint8Array): InvalidUtf8Error {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min = 0x80;
    let max = 0xbf;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) min = 0xa0;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f;
    } else return new InvalidUtf8Error(i, b, "invalid start byte");
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return new InvalidUtf8Error(i, b, "unexpected end of data after byte");
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (c < lo || c > hi) return new InvalidUtf8Error(i, b, "invalid continuation after byte");
    }
    i += need + 1;
  }
  return new InvalidUtf8Error(0, bytes[0] ?? 0, "invalid byte");
}

/**
 * The Dockerfile text the notebook hashes: technical name replaced, comment and version label lines
 * removed (with `str.replace`, i.e. every occurrence of their text anywhere), blank lines dropped,
 * each line stripped. Useful to diff two variants.
 *
 * @param content - the Dockerfile as {@link decodePythonText} returns it.
 * @param technicalName - the connector's folder name, e.g. `source-instagram`.
 */
export function normalizeDockerfile(content: string, technicalName: string): string {
  // `str.replace` replaces every occurrence, left to right, without overlap: `replaceAll` with a
  // string pattern does the same (the replacements hold no `$`, so no substitution patterns).
  let dockerfile = content.replaceAll(technicalName, "connector-technical-name");
  dockerfile = dockerfile.replaceAll(technicalName.replaceAll("-", "_"), "connector_technical_name");
  // The loop iterates over the lines of the text as it was before the loop, while each removal
  // applies to the current text. No line of `splitlines()` that starts with "#" is empty, so the
  // empty-pattern case of `str.replace` never arises.
  for (const line of pythonSplitlines(dockerfile)) {
    if (line.startsWith("#")) dockerfile = dockerfile.replaceAll(line, "");
    if (line.startsWith("LABEL io.airbyte.version")) dockerfile = dockerfile.replaceAll(line, "");
  }
  const kept: string[] = [];
  for (const line of dockerfile.split("\n")) {
    const stripped = pythonStrip(line);
    if (stripped !== "") kept.push(stripped);
  }
  return kept.join("\n");
}

/**
 * The variant id of a Dockerfile, identical to the notebook's `get_dockerfile_variant`: the first
 * 7 hex digits of the sha256 of {@link normalizeDockerfile}'s UTF-8 bytes.
 *
 * @param content - the Dockerfile as {@link decodePythonText} returns it (not the raw bytes: CRLF
 * must already be translated, as `read_text()` does).
 * @param technicalName - the connector's folder name.
 */
export function dockerfileVariantId(content: string, technicalName: string): string {
  return createHash("sha256").update(normalizeDockerfile(content, technicalName), "utf8").digest("hex").slice(0, 7);
}
