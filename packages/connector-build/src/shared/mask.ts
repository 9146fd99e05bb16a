/** What a masked secret value is printed as. */
export const MASK = "***";

/** Longest line printed on stderr; longer lines (a huge YAML scalar echoed in an error) are cut in the middle. */
const MAX_LINE = 2000;

/**
 * Replaces every occurrence of every secret value with {@link MASK}. Longer values first, so a secret
 * that contains another is masked whole. Values shorter than 3 characters are not masked (they
 * would mask ordinary text and reveal, by their absence, what they are).
 */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const values = [...new Set(secrets)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of values) out = out.split(value).join(MASK);
  return out;
}

/** Cuts lines longer than `max` characters in the middle, saying how much was left out. */
export function truncateLongLines(text: string, max = MAX_LINE): string {
  if (text.length <= max) return text;
  return text
    .split("\n")
    .map((line) => (line.length <= max ? line : `${line.slice(0, max / 2)}… [${line.length - max} characters omitted] …${line.slice(-max / 2)}`))
    .join("\n");
}

/**
 * Makes text safe for a terminal: every control character but newline, carriage return and tab is
 * shown escaped (`\x1b`), so a connector folder or file name cannot retitle the terminal, hide
 * text or move the cursor. The cursor moves the CLI's own live progress draws (`ESC [ <n> A`,
 * `ESC [ 0 J`, `ESC [ K`) are kept as they are.
 */
export function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9]{0,4}[AJK]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]/g, (match) =>
    match.length > 1 ? match : `\\x${match.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
