import { escapeControlCharacters, maskSecrets, truncateLongLines } from "../shared/mask.ts";

/** Secret values given to this run (`--secret`, REGISTRY_PASSWORD): masked in everything printed. */
const secrets = new Set<string>();

/** Adds values that must never be printed. */
export function maskInOutput(values: Iterable<string>): void {
  for (const value of values) if (value !== "") secrets.add(value);
}

/** Variables whose values are URLs that may carry credentials (package indexes). */
const URL_VARIABLES = ["AIRBYTE_CI_PIP_INDEX_URL", "AIRBYTE_CI_PIP_EXTRA_INDEX_URL"] as const;
/** Variables whose whole value is a credential. */
const SECRET_VARIABLES = ["REGISTRY_PASSWORD"] as const;

/**
 * The credentials in a URL's userinfo (`https://user:password@host/`): the password, or a user
 * alone (a token given as the user), as written and percent-decoded, since either form can be printed.
 */
function urlCredentials(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/@]+)@/gi)) {
    const userinfo = m[1] as string;
    const colon = userinfo.indexOf(":");
    const secret = colon >= 0 ? userinfo.slice(colon + 1) : userinfo;
    if (secret === "") continue;
    found.push(secret);
    try {
      found.push(decodeURIComponent(secret));
    } catch {
      // not percent-encoded: the raw form is enough
    }
  }
  return found;
}

/**
 * Every credential the CLI is given, wherever it comes from: the passwords (or token users) of URLs
 * on the command line (`--pip-index-url`, `--index-url`, any option's value) and in the package
 * index variables, and `REGISTRY_PASSWORD`. Masked for the whole run, whichever command prints them.
 */
export function maskGivenCredentials(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const texts = [...argv, ...URL_VARIABLES.map((name) => env[name] ?? "")];
  maskInOutput(texts.flatMap(urlCredentials));
  maskInOutput(SECRET_VARIABLES.map((name) => env[name] ?? ""));
}

/**
 * The CLI's one output boundary: every write to stdout and stderr goes through it, whichever
 * command or library callback makes it.
 * - every secret value is masked (errors, progress, `--json` results alike);
 * - control characters (a connector folder named with an ESC sequence) are shown escaped;
 * - stderr lines are cut to a readable length (an error quoting a 50 MB YAML scalar);
 * - a closed stdout or stderr (`| head -1`: EPIPE) ends the output quietly instead of crashing
 *   with a stack trace; the command finishes, writing nothing more.
 * Returns a function restoring the streams (main runs more than once in one process in tests).
 */
export function installOutputBoundary(): () => void {
  const restores = [
    guard(process.stdout, (s) => escapeControlCharacters(maskSecrets(s, secrets))),
    guard(process.stderr, (s) => truncateLongLines(escapeControlCharacters(maskSecrets(s, secrets)))),
  ];
  return () => {
    for (const restore of restores) restore();
    secrets.clear();
  };
}

/** Streams whose reader went away (EPIPE): nothing more is written to them. */
const closedStreams = new WeakSet<NodeJS.WriteStream>();
const watchedStreams = new WeakSet<NodeJS.WriteStream>();

function guard(stream: NodeJS.WriteStream, filter: (text: string) => string): () => void {
  // One listener per stream for the whole process: a failed write reports EPIPE a tick later,
  // possibly after main has returned.
  if (!watchedStreams.has(stream)) {
    watchedStreams.add(stream);
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") closedStreams.add(stream);
      else throw error;
    });
  }
  const original = stream.write;
  stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (closedStreams.has(stream)) return true;
    const text = typeof chunk === "string" ? filter(chunk) : chunk instanceof Uint8Array && secrets.size > 0 ? filter(Buffer.from(chunk).toString("utf8")) : chunk;
    return (original as (...args: unknown[]) => boolean).call(this, text, ...rest);
  } as typeof stream.write;
  return () => {
    stream.write = original;
  };
}
