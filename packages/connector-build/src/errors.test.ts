import { AirbyteCiError, BaseImagesError, parseImageAddress } from "@airbyte-ci/base-images";
import { HooksError } from "@airbyte-ci/hooks";
import { describe, expect, expectTypeOf, it } from "vitest";
import { ConnectorBuildError, EXIT, EXIT_CODES, exitCodeFor, type ErrorCode, type ExitCode } from "./errors.ts";
import { RegistryClient } from "./registry/registry-client.ts";
import { RegistryError } from "./registry/registry-error.ts";

describe("one error table", () => {
  it("maps every code of every package (the satisfies clause makes an unmapped code a type error)", () => {
    expectTypeOf(EXIT_CODES).toMatchTypeOf<Record<ErrorCode, ExitCode>>();
    expect(Object.values(EXIT_CODES).every((c) => (Object.values(EXIT) as number[]).includes(c))).toBe(true);
    expect(exitCodeFor(new HooksError("INVALID_BUILD_CUSTOMIZATION", "x"))).toBe(2);
    expect(exitCodeFor(new ConnectorBuildError("ENGINE_UNAVAILABLE", "x"))).toBe(3);
    expect(exitCodeFor(new ConnectorBuildError("INTERRUPTED", "x"))).toBe(130);
    expect(exitCodeFor(new Error("anything else"))).toBe(1);
    expect(exitCodeFor(new AirbyteCiError("NOT_A_CODE", "x"))).toBe(1);
  });

  it("a registry typo is bad input (exit 2); an unreachable registry is a failure (exit 1)", async () => {
    const typo = await new RegistryClient().tagExists("127.0.0.1:5000/Not A Repo", "1.0.0").catch((e: unknown) => e);
    expect(RegistryError.isInstance(typo) && typo.reason).toBe("INVALID_REFERENCE");
    expect(exitCodeFor(typo)).toBe(2);
    const down = await new RegistryClient({ timeoutMs: 2000 }).tagExists("127.0.0.1:1/airbyte/x", "1.0.0").catch((e: unknown) => e);
    expect(RegistryError.isInstance(down) && down.reason).toBe("UNREACHABLE");
    expect(exitCodeFor(down)).toBe(1);
    const badAddress = (() => {
      try {
        return parseImageAddress("python:3.11");
      } catch (e) {
        return e;
      }
    })();
    expect(exitCodeFor(badAddress)).toBe(2);
  });

  it("gives each error class its own marker", () => {
    const registry = new RegistryError("AUTH", "x");
    expect(RegistryError.isInstance(registry)).toBe(true);
    expect(ConnectorBuildError.isInstance(registry)).toBe(true);
    expect(AirbyteCiError.isInstance(registry)).toBe(true);
    expect(BaseImagesError.isInstance(registry)).toBe(false);
    expect(RegistryError.isInstance(new ConnectorBuildError("USAGE", "x"))).toBe(false);
    expect(ConnectorBuildError.isInstance(new BaseImagesError("INVALID_RECIPE", "x"))).toBe(false);
  });
});
