// The test command's split (scripts/test.sh): every suite that does not need the Dagger engine runs
// at once (`test`), the Dagger suite (`test:dagger`) once the engine is ready. A test file that reads
// the engine's variables must be in the second and out of the first, or it would run without them.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const PACKAGE = join(import.meta.dirname, "..");
const scripts = (JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "__fixtures__" ? [] : testFiles(path);
    return e.name.endsWith(".test.ts") ? [relative(PACKAGE, path)] : [];
  });
}

describe("test suites of the test command", () => {
  const daggerFiles = [...testFiles(join(PACKAGE, "src")), ...testFiles(join(PACKAGE, "test"))].filter(
    (file) => file !== "test/test-suites.test.ts" && /AIRBYTE_CI_DAGGER_RUNNER_HOST|AIRBYTE_CI_COSIGN_BIN|helpers\/dagger-engine\.ts/.test(readFileSync(join(PACKAGE, file), "utf8")),
  );

  it("the files that read the Dagger engine's or cosign's variables are the late suite, and only it", () => {
    expect(daggerFiles.sort()).toEqual(["test/dagger-parity.test.ts", "test/dagger-real.test.ts", "test/trust-cosign.test.ts", "test/trust-dagger.test.ts"]);
    const dagger = (scripts["test:late"] ?? "").split(/\s+/).filter((w) => w.endsWith(".test.ts"));
    expect(dagger.sort()).toEqual([...daggerFiles].sort());
    const excluded = [...(scripts.test ?? "").matchAll(/--exclude\s+(\S+)/g)].map((m) => m[1]);
    expect(excluded.sort()).toEqual([...daggerFiles].sort());
  });

  it("scripts/test.sh starts the main suites at once and the Dagger suite after the engine wait", () => {
    const script = readFileSync(join(PACKAGE, "../../scripts/test.sh"), "utf8");
    const main = script.indexOf("pnpm test &");
    const wait = script.indexOf("bash scripts/wait-dagger-engine.sh");
    const daggerSuite = script.indexOf("run test:late");
    expect(main).toBeGreaterThan(0);
    expect(main).toBeLessThan(wait);
    expect(wait).toBeLessThan(daggerSuite);
    // Both exit codes count.
    expect(script).toMatch(/\[ "\$main_rc" = 0 \] && \[ "\$dagger_rc" = 0 \]\s*$/);
  });
});
