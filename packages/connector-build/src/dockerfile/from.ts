import { parseDockerfileInstructions, unquote } from "./parse.ts";

/** One `FROM` instruction of a Dockerfile. */
export interface FromInstruction {
  /** The image as written, after substitution of global `ARG` defaults (`$X`, `${X}`, `${X:-d}`, `${X:+a}`). */
  image: string;
  /** The stage name given with `AS`, lowercased as Docker compares it. */
  stage?: string;
  /** The `--platform=` flag, when given. */
  platform?: string;
  /** True when `image` names an earlier stage (`FROM base`): not an image to pull. */
  stageReference: boolean;
  /** 1-based line of the instruction. */
  line: number;
}

/** Substitutes `$X`, `${X}`, `${X:-default}` and `${X:+alternative}`; unknown names are kept as written. */
function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      const value = args.get(name);
      if (op === "-") return value !== undefined && value !== "" ? value : (word ?? "");
      if (op === "+") return value !== undefined && value !== "" ? (word ?? "") : "";
      return value ?? whole;
    },
  );
}

/**
 * Every `FROM` instruction of a Dockerfile: keyword case-insensitive, continuation lines joined,
 * comments skipped, `--platform` flags and `AS <stage>` understood, global `ARG` defaults (those
 * before the first `FROM`) substituted.
 */
export function parseFromInstructions(content: string): FromInstruction[] {
  const globalArgs = new Map<string, string>();
  const stages = new Set<string>();
  const result: FromInstruction[] = [];
  let seenFrom = false;
  for (const { keyword, raw: rest, line } of parseDockerfileInstructions(content)) {
    if (!/^[A-Z]+$/.test(keyword)) continue;
    if (keyword === "ARG" && !seenFrom) {
      for (const token of rest.split(/\s+/).filter(Boolean)) {
        const eq = token.indexOf("=");
        const name = eq < 0 ? token : token.slice(0, eq);
        if (eq >= 0) globalArgs.set(name, substitute(unquote(token.slice(eq + 1)), globalArgs));
      }
      continue;
    }
    if (keyword !== "FROM") continue;
    seenFrom = true;
    const tokens = rest.split(/\s+/).filter(Boolean);
    let platform: string | undefined;
    while (tokens[0]?.startsWith("--")) {
      const flag = tokens.shift() as string;
      if (flag.toLowerCase().startsWith("--platform=")) platform = substitute(flag.slice("--platform=".length), globalArgs);
    }
    const written = tokens[0];
    if (written === undefined) continue;
    const image = substitute(written, globalArgs);
    const stage = tokens[1]?.toLowerCase() === "as" && tokens[2] !== undefined ? tokens[2].toLowerCase() : undefined;
    const stageReference = stages.has(image.toLowerCase());
    result.push({
      image,
      ...(stage !== undefined ? { stage } : {}),
      ...(platform !== undefined ? { platform } : {}),
      stageReference,
      line,
    });
    if (stage !== undefined) stages.add(stage);
  }
  return result;
}

/**
 * The images a Dockerfile is built from: the `FROM` images that are not references to an earlier
 * stage, without duplicates, in order. `python:3.9.11-alpine3.15 as base` + `FROM base` gives
 * `["python:3.9.11-alpine3.15"]`.
 */
export function dockerfileBaseImages(content: string): string[] {
  const images: string[] = [];
  for (const from of parseFromInstructions(content)) {
    if (!from.stageReference && !images.includes(from.image)) images.push(from.image);
  }
  return images;
}
