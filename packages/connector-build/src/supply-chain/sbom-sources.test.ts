import { describe, expect, it } from "vitest";
import { parseSbomSource } from "./sbom-sources.ts";

describe("sbom <image>: which image the argument names", () => {
  it("prefixes force the source; without one, an image id is local, a registry host means the registry, anything else is tried locally first", () => {
    expect(parseSbomSource("oci:out/source-tickets.tar")).toEqual({ kind: "oci", file: "out/source-tickets.tar" });
    expect(parseSbomSource("docker:airbyte/source-tickets:0.1.0")).toEqual({ kind: "docker", reference: "airbyte/source-tickets:0.1.0" });
    expect(parseSbomSource("registry:airbyte/source-tickets:0.1.0")).toEqual({ kind: "registry", reference: "airbyte/source-tickets:0.1.0", explicit: true });
    expect(parseSbomSource("airbyte/source-tickets:0.1.0")).toEqual({ kind: "auto", reference: "airbyte/source-tickets:0.1.0" });
    expect(parseSbomSource("python:3.11")).toEqual({ kind: "auto", reference: "python:3.11" });
    expect(parseSbomSource("127.0.0.1:5000/airbyte/source-tickets:0.1.0")).toEqual({ kind: "registry", reference: "127.0.0.1:5000/airbyte/source-tickets:0.1.0", explicit: false });
    expect(parseSbomSource("docker.io/airbyte/source-tickets:0.1.0").kind).toBe("registry");
    expect(parseSbomSource("localhost/a:1").kind).toBe("registry");
    expect(parseSbomSource(`sha256:${"a".repeat(64)}`)).toEqual({ kind: "docker", reference: `sha256:${"a".repeat(64)}` });
    expect(parseSbomSource("0123456789ab")).toEqual({ kind: "docker", reference: "0123456789ab" });
  });

  it("an empty, option-like or spaced argument is a usage error naming what was expected", () => {
    for (const bad of ["", "oci:", "docker:", "--help", "registry:-x", "a b:1"]) {
      expect(() => parseSbomSource(bad), bad).toThrow(expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/expected/) }));
    }
  });
});
