import type { BuildPhase, ConnectorBuildResult } from "../build/build-connectors.ts";
import { outcomeOf, renderFleetTable } from "./report.ts";

/** Where progress goes: stderr, or anything with `write` (tests). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link createFleetProgress}. */
export interface FleetProgressOptions {
  /** Milliseconds clock. Default: `performance.now`. */
  readonly now?: () => number;
  /** Redraw interval of the live lines on a terminal (ms); 0 redraws only on events. Default: 1000. */
  readonly refreshMs?: number;
}

/** Receives a fleet build's events and prints them. */
export interface FleetProgress {
  phase(dir: string, connector: string, phase: BuildPhase, detail: string): void;
  /** A line of the build's own log (printed on a non-terminal; above the live lines on a terminal). */
  line(connector: string, text: string): void;
  done(result: ConnectorBuildResult): void;
  /** Stops the live lines and prints the table (built, failed, cached, time) unless `table` is false. */
  finish(results: readonly ConnectorBuildResult[], options?: { table?: boolean }): void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * What a plain progress line's numbers are: when the step starts, counted from the connector's
 * start, and how long the step before it took (`starts at 0.0 s` for the first step).
 */
export function stepTimes(previous: { phase: BuildPhase; detail: string; since: number; stepSince: number } | undefined, now: number): string {
  if (previous === undefined) return "starts at 0.0 s";
  const step = `${previous.phase}${previous.detail ? ` ${previous.detail}` : ""}`;
  return `starts at ${seconds(now - previous.since)}; ${step} took ${seconds(now - previous.stepSince)}`;
}

/**
 * Progress of a fleet build. On a terminal: one live line per running connector (phase, elapsed),
 * redrawn in place, and a permanent line when a connector finishes. Elsewhere (CI logs, pipes):
 * plain lines only, one per phase change (`[source-tickets] build linux/amd64 (starts at 3.1 s;
 * prepare took 3.1 s)`: times counted from the connector's start) and one per finished connector,
 * never a control sequence.
 * Both end with the table of {@link renderFleetTable}.
 */
export function createFleetProgress(stream: ProgressStream, options: FleetProgressOptions = {}): FleetProgress {
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const started = now();
  const running = new Map<string, { connector: string; phase: BuildPhase; detail: string; since: number; stepSince: number }>();
  let drawn = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const liveLine = (r: { connector: string; phase: BuildPhase; detail: string; since: number }) => {
    const text = `  ${r.connector}  ${r.phase}${r.detail ? ` ${r.detail}` : ""}  ${seconds(now() - r.since)}`;
    const width = stream.columns ?? 120;
    return text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text;
  };
  /** Erases the live block, writes `above` (permanent lines), then draws the live block again. */
  const redraw = (above = "") => {
    let out = drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : "";
    out += above;
    const lines = [...running.values()].map(liveLine);
    out += lines.map((l) => `${l}\n`).join("");
    drawn = lines.length;
    stream.write(out);
  };
  const print = (text: string) => (tty ? redraw(text) : stream.write(text));
  if (tty && (options.refreshMs ?? 1000) > 0) {
    timer = setInterval(() => redraw(), options.refreshMs ?? 1000);
    timer.unref?.();
  }

  return {
    phase(dir, connector, phase, detail) {
      const previous = running.get(dir);
      const t = now();
      running.set(dir, { connector, phase, detail, since: previous?.since ?? t, stepSince: t });
      if (tty) redraw();
      else stream.write(`[${connector}] ${phase}${detail ? ` ${detail}` : ""} (${stepTimes(previous, t)})\n`);
    },
    line(connector, text) {
      print(`[${connector}] ${text}\n`);
    },
    done(result) {
      running.delete(result.dir);
      const outcome = outcomeOf(result);
      const mark = outcome === "failed" ? "✗" : "✓";
      print(`${mark} ${result.connector}: ${outcome} in ${seconds(result.durationMs)}${result.error ? ` (${result.error.code})` : ""}\n`);
    },
    finish(results, { table = true } = {}) {
      if (timer) clearInterval(timer);
      running.clear();
      if (table) print(renderFleetTable(results, { wallMs: now() - started }));
      else if (tty) redraw();
    },
  };
}
