import { BaseImagesError } from "@airbyte-ci/base-images";

/**
 * Where a value is written in a rendered Dockerfile, which decides what it may contain and how it
 * is escaped:
 * - `word`: a bare word (FROM address): no whitespace, quote, `$`, `\` or `#`;
 * - `env-name`: an ENV or shell variable name;
 * - `label-name`: a LABEL key;
 * - `quoted`: inside a double-quoted ENV/LABEL value, taken literally;
 * - `rest-of-line`: WORKDIR/USER, which take the rest of the line with substitution and quotes;
 * - `mount`: one value of a `RUN --mount=` option (cache target, cache id, secret id): BuildKit
 *   splits the flag at whitespace and its options at `,` and `=`, and reads quotes, so none of
 *   these may appear (escaping differs between BuildKit versions; refusing is the portable choice);
 * - `comment`: text of a `#` comment line.
 */
export type DockerfileValueKind = "word" | "env-name" | "label-name" | "quoted" | "rest-of-line" | "mount" | "comment";

// Docker's parser reads physical lines: any line break (or NUL, or another control character that
// editors and terminals treat oddly) would start a new instruction or hide part of one.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u0085\u2028\u2029]/;

const RULES: Record<DockerfileValueKind, { allowed: RegExp; expected: string }> = {
  word: { allowed: /^[^\s"'`$\\#]+$/, expected: "a single word without whitespace, quotes, '$', '\\' or '#'" },
  "env-name": { allowed: /^[A-Za-z_][A-Za-z0-9_]*$/, expected: "a variable name ([A-Za-z_][A-Za-z0-9_]*)" },
  "label-name": { allowed: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/, expected: "a label key such as io.airbyte.version" },
  quoted: { allowed: /^[^]*$/, expected: "text" },
  // A trailing backslash, even escaped, continues the line in Docker's parser.
  "rest-of-line": { allowed: /^[^\s\\]$|^\S[^]*[^\s\\]$/, expected: "a non-empty line without leading or trailing whitespace or a trailing '\\'" },
  mount: { allowed: /^[^\s,="'`\\]+$/, expected: "no whitespace, ',', '=', quotes or '\\' (it becomes a RUN --mount option)" },
  comment: { allowed: /^[^]*$/, expected: "text" },
};

/**
 * The one gate between recipe values and Dockerfile text: every value the renderer writes into a
 * Dockerfile (or a `--mount` option) goes through here, is refused when it could add an
 * instruction, a flag or a mount option, and comes back escaped for its place.
 *
 * @throws BaseImagesError `INVALID_RECIPE` naming where the value was going and what is allowed.
 */
export function dockerfileValue(kind: DockerfileValueKind, value: string, where: string): string {
  const rule = RULES[kind];
  if (typeof value !== "string" || CONTROL.test(value) || !rule.allowed.test(value)) {
    const shown = JSON.stringify(String(value))
      .replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .slice(0, 120);
    throw new BaseImagesError("INVALID_RECIPE", `${where}: ${shown} cannot be written into a Dockerfile: expected ${rule.expected}, on one line`);
  }
  switch (kind) {
    case "quoted":
      return `"${value.replace(/[\\"$]/g, "\\$&")}"`;
    case "rest-of-line":
      return value.replace(/[\\$"']/g, "\\$&");
    default:
      return value;
  }
}
