import { inspect } from "node:util";
import { GraphQLRequestError, NotAwaitedRequestError, UnknownDaggerError } from "@dagger.io/dagger";
import { ConnectorBuildError } from "../../errors.ts";
import type { ConnectorBuildErrorCode } from "../../errors.ts";

/** True for errors that mean the engine could not be reached at all (refused, reset, unknown host). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof NotAwaitedRequestError) return true;
  if (error instanceof GraphQLRequestError) {
    const status = (error.response as { status?: number } | undefined)?.status;
    return status === 401 || status === 403;
  }
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown; errno?: unknown }).code ?? (current as { errno?: unknown }).errno;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true;
    current = current.cause;
  }
  return false;
}

/** The message of an SDK error, with the cause of an unknown error and the HTTP status of a refused request. */
export function messageOf(error: unknown): string {
  if (error instanceof UnknownDaggerError && error.cause instanceof Error) return `${error.message}: ${error.cause.message}`;
  if (error instanceof GraphQLRequestError) {
    const status = (error.response as { status?: number } | undefined)?.status;
    if (status !== undefined && status !== 200) return `${error.message} (HTTP ${status})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The secret values one Dagger engine was given, and the error messages and causes it reports with
 * every one of them replaced by `***`.
 */
export class SecretScrubber {
  private readonly values = new Set<string>();

  /** Remembers the (non-empty) values to scrub from now on. */
  add(values: Iterable<string>): void {
    for (const value of values) if (value !== "") this.values.add(value);
  }

  /** Replaces every secret value by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.values) out = out.split(value).join("***");
    return out;
  }

  /** The error itself, unless it (its request, say) carries a secret value: then a scrubbed copy. */
  safeCause(error: unknown): unknown {
    const dump = inspect(error, { depth: 6 });
    for (const value of this.values) if (dump.includes(value)) return new Error(this.scrub(messageOf(error)));
    return error;
  }

  /** A ConnectorBuildError `code` saying `what` failed and why, scrubbed; a ConnectorBuildError passes as it is. */
  wrap(code: ConnectorBuildErrorCode, what: string, error: unknown): ConnectorBuildError {
    if (error instanceof ConnectorBuildError) return error;
    return new ConnectorBuildError(code, this.scrub(`${what}: ${messageOf(error)}`), { cause: this.safeCause(error) });
  }

  /** {@link wrap} with ENGINE_UNAVAILABLE when the engine could not be reached, else `code`. */
  wrapEngine(code: ConnectorBuildErrorCode, what: string, error: unknown): ConnectorBuildError {
    return this.wrap(isConnectionError(error) ? "ENGINE_UNAVAILABLE" : code, what, error);
  }
}
