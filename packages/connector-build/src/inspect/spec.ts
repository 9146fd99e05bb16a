import type { BuiltImage, Engine } from "../engines/engine.ts";
import { lastLines } from "../errors.ts";
import { findSpecMessage } from "./image-probes.ts";

/** How long `spec` may run before the build fails and its container is removed. */
export const DEFAULT_SPEC_TIMEOUT_MS = 120_000;

/** What `spec` answered. */
export interface SpecVerification {
  readonly spec: boolean;
  readonly detail: string;
  readonly message?: unknown;
}

/** Runs `spec` through the entrypoint, without network (spec must not need one), and requires a JSON line whose type is SPEC. */
export async function verifySpec(engine: Engine, image: BuiltImage, timeoutMs = DEFAULT_SPEC_TIMEOUT_MS): Promise<SpecVerification> {
  const run = await engine.run(image, ["spec"], { useEntrypoint: true, timeoutMs, network: false });
  const message = findSpecMessage(run.stdout);
  if (message) return { spec: true, detail: "spec answered with a SPEC message", message };
  return {
    spec: false,
    detail: `spec exited with ${run.exitCode} and printed no JSON line with "type": "SPEC"; last output:\n${lastLines(`${run.stdout}\n${run.stderr}`, 10) || "(none)"}`,
  };
}
