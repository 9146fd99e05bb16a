// runSanityChecks schedules its check containers concurrently but reports in the checks' order.
// The fake engine stands in for a real one only to observe scheduling (how many runs are in flight,
// each answering after a delay), which a real engine does not expose; the real-engine checks are in
// docker-engine.test.ts, rebase.test.ts and the release tests.
import { ImageRecipe, type SanityCheck } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import type { BuiltImage, RunOptions, RunResult } from "../engines/engine.ts";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { runSanityChecks } from "./sanity-checks.ts";

class SlowEngine extends FakeEngine {
  inFlight = 0;
  maxInFlight = 0;
  override async run(image: BuiltImage, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Later checks answer sooner: a result placed by completion order would come out reversed.
    const n = Number(argv.at(-1));
    await new Promise((resolve) => setTimeout(resolve, 5 + (10 - n) * 3));
    this.inFlight--;
    return super.run(image, argv, options);
  }
}

describe("runSanityChecks", () => {
  it("runs up to `concurrency` checks at once and reports them in the checks' order", async () => {
    const engine = new SlowEngine();
    const image = await engine.build({ recipe: ImageRecipe.empty().from("registry.example/base:1@sha256:" + "a".repeat(64)), platform: "linux/amd64" });
    const checks: SanityCheck[] = Array.from({ length: 10 }, (_, i) => ({
      kind: "command",
      name: `check ${i}`,
      argv: ["echo", String(i)],
      // Check 7 expects what it will not see: a failure keeps its place too.
      expect: { stdout: i === 7 ? "seven" : String(i) },
    }));
    const results = await runSanityChecks(engine, image, checks, { concurrency: 3 });
    expect(results.map((r) => r.check)).toEqual(checks.map((c) => c.name));
    expect(results.map((r) => r.passed)).toEqual(checks.map((_, i) => i !== 7));
    expect(engine.maxInFlight).toBe(3);
    const one = new SlowEngine();
    const oneImage = await one.build({ recipe: ImageRecipe.empty().from("registry.example/base:1@sha256:" + "a".repeat(64)), platform: "linux/amd64" });
    await runSanityChecks(one, oneImage, checks, { concurrency: 1 });
    expect(one.maxInFlight).toBe(1);
  });
});
