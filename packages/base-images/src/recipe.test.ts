import { describe, expect, it } from "vitest";
import { ImageRecipe } from "./recipe.ts";

const ROOT = "docker.io/library/python:3.9.18-bookworm@sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58";

describe("ImageRecipe", () => {
  it("records plain, serialisable operations in order", () => {
    const recipe = ImageRecipe.empty()
      .from(ROOT)
      .withEnvVariable("LANG", "C.UTF-8")
      .withWorkdir("/airbyte/integration_code")
      .withFile("setup.py", "setup.py")
      .withDirectory("source_hello", "./source_hello/")
      .withMountedCache("/root/.cache/pip", "pip-cache", { sharing: "locked" })
      .withSecretVariable("PIP_INDEX_URL", "pip-index-url")
      .withExec(["pip", "install", "."])
      .withLabel("io.airbyte.version", "1.0.0")
      .withEntrypoint(["python", "/airbyte/integration_code/main.py"])
      .withUser("airbyte");
    const json = JSON.parse(JSON.stringify(recipe));
    expect(json.map((op: { op: string }) => op.op)).toEqual([
      "from",
      "withEnvVariable",
      "withWorkdir",
      "withFile",
      "withDirectory",
      "withMountedCache",
      "withSecretVariable",
      "withExec",
      "withLabel",
      "withEntrypoint",
      "withUser",
    ]);
    expect(json[4]).toEqual({ op: "withDirectory", path: "source_hello", source: "source_hello/" });
    expect(ImageRecipe.fromOperations(json).operations).toEqual(recipe.operations);
    expect(recipe.secretNames).toEqual(["pip-index-url"]);
    expect(recipe.baseAddress).toBe(ROOT);
  });

  it("is immutable: every call returns a new recipe", () => {
    const a = ImageRecipe.empty().from(ROOT);
    const b = a.withEnvVariable("A", "1");
    expect(a.operations).toHaveLength(1);
    expect(b.operations).toHaveLength(2);
    expect(Object.isFrozen(b.operations)).toBe(true);
    expect(() => (b.operations[1] as { value: string }).value = "2").toThrow();
  });

  it("normalises short from() addresses and refuses tag-only ones", () => {
    expect(ImageRecipe.empty().from(`python:3.9.18-bookworm@${ROOT.split("@")[1]}`).baseAddress).toBe(ROOT);
    expect(() => ImageRecipe.empty().from("python:3.9-slim")).toThrowError(/tag-only reference/);
  });

  it.each([
    [() => ImageRecipe.empty().withFile("/x", "../secrets.txt"), /reaches outside the build context/],
    [() => ImageRecipe.empty().withDirectory("/x", "a/../../b"), /reaches outside the build context/],
    [() => ImageRecipe.empty().withFile("/x", "/etc/passwd"), /relative to the build context/],
    [() => ImageRecipe.empty().withEnvVariable("1BAD", "x"), /valid environment variable name/],
    [() => ImageRecipe.empty().withEnvVariable("A", "two\nlines"), /single line/],
    [() => ImageRecipe.empty().withExec([]), /at least the program/],
    [() => ImageRecipe.empty().withSecretVariable("TOKEN", "bad name"), /secret name/],
    [() => ImageRecipe.empty().withLabel("", "x"), /label key/],
  ])("refuses invalid operations (%#)", (make, message) => {
    expect(make).toThrowError(message);
  });

  it("reports the index of an invalid operation read from data", () => {
    expect(() =>
      ImageRecipe.fromOperations([{ op: "withWorkdir", path: "/a" }, { op: "withExec", args: "pip install" }], "catalog recipe"),
    ).toThrowError(/catalog recipe\[1\]\.?\[?args/);
    expect(() => ImageRecipe.fromOperations([{ op: "withMagic" }])).toThrowError(/invalid recipe/);
  });

  it("with() applies fragments and refuses functions that return something else", () => {
    const tz = (r: ImageRecipe) => r.withEnvVariable("TZ", "UTC");
    expect(ImageRecipe.empty().with(tz).operations).toEqual([{ op: "withEnvVariable", name: "TZ", value: "UTC" }]);
    expect(() => ImageRecipe.empty().with(() => "nope" as unknown as ImageRecipe)).toThrowError(/returned a string, expected an ImageRecipe/);
  });

  it("recognises recipes across copies but not look-alikes", () => {
    expect(ImageRecipe.isInstance(ImageRecipe.empty())).toBe(true);
    expect(ImageRecipe.isInstance({ operations: [] })).toBe(false);
    expect(ImageRecipe.isInstance({ ...ImageRecipe.empty().withUser("x") })).toBe(false);
  });
});
