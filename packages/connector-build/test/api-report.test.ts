import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PACKAGES, apiReport, reportPath, unexportedPublicTypes } from "../../../tooling/api-report.ts";

// Every public export and signature is recorded in packages/<name>/api-report.md: a change to a
// public API must come with the regenerated report (`pnpm api-report`), so that review sees it.
describe("API reports", () => {
  for (const pkg of PACKAGES) {
    it(`packages/${pkg}/api-report.md is up to date (run pnpm api-report after a deliberate API change)`, () => {
      expect(apiReport(pkg)).toBe(readFileSync(reportPath(pkg), "utf8"));
    }, 120_000);

    it(`packages/${pkg}: every type an exported signature uses is exported too`, () => {
      expect(unexportedPublicTypes(pkg)).toEqual([]);
    }, 120_000);
  }
});
