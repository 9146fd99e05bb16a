import { describe, expect, it } from "vitest";
import { BaseImagesError } from "./errors.ts";
import { formatImageAddress, parseImageAddress, parseRootImage, splitImageReference } from "./image-address.ts";
import { parsePlatform, parsePlatformList } from "./platform.ts";

const AMD64 = "sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58";

describe("parseImageAddress", () => {
  it("parses and prints a full address unchanged", () => {
    const full = `docker.io/library/python:3.9.18-bookworm@${AMD64}`;
    const parsed = parseImageAddress(full);
    expect(parsed).toEqual({ registry: "docker.io", repository: "library/python", tag: "3.9.18-bookworm", digest: AMD64 });
    expect(formatImageAddress(parsed)).toBe(full);
  });

  it("normalises short Docker Hub names", () => {
    expect(formatImageAddress(parseImageAddress(`python:3.9.18-bookworm@${AMD64}`))).toBe(
      `docker.io/library/python:3.9.18-bookworm@${AMD64}`,
    );
    expect(parseImageAddress(`airbyte/python-connector-base:1.0.0@${AMD64}`).repository).toBe("airbyte/python-connector-base");
  });

  it("keeps registries with ports", () => {
    const parsed = parseImageAddress(`127.0.0.1:5000/python:3.11-bookworm@${AMD64}`);
    expect(parsed.registry).toBe("127.0.0.1:5000");
    expect(parsed.repository).toBe("python");
    expect(parsed.tag).toBe("3.11-bookworm");
  });

  it.each([
    ["python:3.9-slim", /tag-only reference.*expected <registry>\/<repository>:<tag>@sha256/],
    ["docker.io/library/python:3.9.18-bookworm", /tag-only/],
    ["python:3.9@sha256:abc", /malformed digest 'sha256:abc'.*64 lowercase hex/],
    [`python:3.9@sha256:${"A".repeat(64)}`, /malformed digest/],
    [`python:3.9@md5:${"a".repeat(32)}`, /malformed digest/],
    [`python@${AMD64}`, /has no tag/],
    [`Python:3.9@${AMD64}`, /malformed repository 'library\/Python'/],
    ["", /empty image address/],
  ])("refuses %j", (input, message) => {
    expect(() => parseImageAddress(input)).toThrowError(message);
    try {
      parseImageAddress(input);
    } catch (error) {
      expect(BaseImagesError.isInstance(error)).toBe(true);
      expect((error as BaseImagesError).code).toBe("INVALID_IMAGE_ADDRESS");
    }
  });

  it("says where the address came from", () => {
    expect(() => parseImageAddress("python:3.9-slim", "metadata.yaml data.connectorBuildOptions.baseImage")).toThrowError(
      /^metadata\.yaml data\.connectorBuildOptions\.baseImage: 'python:3\.9-slim' is a tag-only reference/,
    );
  });
});

describe("splitImageReference", () => {
  it("handles tag-only and digest-only references without refusing them", () => {
    expect(splitImageReference("python:3.9-slim")).toEqual({ registry: "docker.io", repository: "library/python", tag: "3.9-slim" });
    expect(splitImageReference("localhost/a/b")).toEqual({ registry: "localhost", repository: "a/b" });
  });
});

describe("platforms", () => {
  it("parses the supported platforms", () => {
    expect(parsePlatform("linux/arm64")).toBe("linux/arm64");
    expect(parsePlatformList("linux/amd64, linux/arm64,linux/amd64")).toEqual(["linux/amd64", "linux/arm64"]);
  });
  it.each(["linux/386", "amd64", "windows/amd64", ""])("refuses %j", (p) => {
    expect(() => parsePlatform(p)).toThrowError(/unknown platform .*expected one of linux\/amd64, linux\/arm64/);
  });
  it("refuses root images of unknown platforms", () => {
    expect(() => parseRootImage(`python:3.9@${AMD64}`, "linux/s390x")).toThrowError(/unknown platform 'linux\/s390x'/);
  });
});
