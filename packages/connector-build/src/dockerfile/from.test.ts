import { describe, expect, it } from "vitest";
import { dockerfileBaseImages, parseFromInstructions } from "./from.ts";

describe("dockerfileBaseImages", () => {
  it("reads the seed's multi-stage Dockerfile, ignoring stage references", () => {
    const notion = [
      "FROM python:3.9.11-alpine3.15 as base",
      "# build and load all requirements",
      "FROM base as builder",
      "RUN pip install --prefix=/install .",
      "FROM base",
      "COPY --from=builder /install /usr/local",
    ].join("\n");
    expect(dockerfileBaseImages(notion)).toEqual(["python:3.9.11-alpine3.15"]);
    expect(parseFromInstructions(notion)).toEqual([
      { image: "python:3.9.11-alpine3.15", stage: "base", stageReference: false, line: 1 },
      { image: "base", stage: "builder", stageReference: true, line: 3 },
      { image: "base", stageReference: true, line: 5 },
    ]);
  });

  it("records every external image, in order, once", () => {
    const content = [
      "FROM 127.0.0.1:5000/python:3.11-bookworm AS build",
      "FROM --platform=linux/amd64 alpine:3.18 AS tools",
      "FROM 127.0.0.1:5000/python:3.11-bookworm",
      "COPY --from=build /a /a",
    ].join("\n");
    expect(dockerfileBaseImages(content)).toEqual(["127.0.0.1:5000/python:3.11-bookworm", "alpine:3.18"]);
    expect(parseFromInstructions(content)[1]).toMatchObject({ platform: "linux/amd64", stage: "tools" });
  });

  it("is case-insensitive, skips comments, joins continuations, handles CRLF and a BOM", () => {
    const content = "\uFEFF# FROM commented:out\r\nfrom \\\r\n  # a comment inside the continuation\r\n  python:3.9-slim \\\r\n  As Base\r\nFROM BASE\r\n";
    expect(parseFromInstructions(content)).toEqual([
      { image: "python:3.9-slim", stage: "base", stageReference: false, line: 2 },
      { image: "BASE", stageReference: true, line: 6 },
    ]);
  });

  it("honours the escape parser directive", () => {
    expect(dockerfileBaseImages("# escape=`\nFROM `\n  python:3.10 AS x\nRUN echo \\\n")).toEqual(["python:3.10"]);
  });

  it("substitutes global ARG defaults and keeps unknown variables as written", () => {
    const content = [
      "ARG PYTHON_VERSION=3.9.18",
      'ARG DISTRO="bookworm" REGISTRY',
      "FROM python:${PYTHON_VERSION}-$DISTRO",
      "FROM ${REGISTRY:-docker.io}/library/python:${UNKNOWN}",
      "ARG PYTHON_VERSION=3.12",
      "FROM python:${PYTHON_VERSION}",
    ].join("\n");
    expect(dockerfileBaseImages(content)).toEqual([
      "python:3.9.18-bookworm",
      "docker.io/library/python:${UNKNOWN}",
      "python:3.9.18",
    ]);
  });

  it("gives nothing for a Dockerfile without FROM", () => {
    expect(dockerfileBaseImages("RUN true\n")).toEqual([]);
    expect(dockerfileBaseImages("")).toEqual([]);
  });
});
