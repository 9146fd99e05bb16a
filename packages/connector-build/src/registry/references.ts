import { REPOSITORY_PATH_PATTERN, splitImageReference } from "@airbyte-ci/base-images";
import { assertWellFormedDigest } from "./platforms.ts";
import { RegistryError } from "./registry-error.ts";

/** A reference or repository the client speaks to, split. */
export interface ParsedReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseReference(reference: string, operation: string): ParsedReference {
  const ref = splitOrThrow(reference, operation);
  if (ref.digest !== undefined) assertWellFormedDigest(ref.digest, `${operation}: ${reference}`);
  if (ref.digest === undefined && (ref.tag === undefined || ref.tag === "")) {
    throw new RegistryError("INVALID_REFERENCE", `${operation}: '${reference}' names neither a tag nor a digest: expected <registry>/<repository>:<tag> or …@sha256:<digest>`);
  }
  return ref;
}

export function parseRepository(repository: string, operation: string): ParsedReference {
  const ref = splitOrThrow(repository, operation);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new RegistryError("INVALID_REFERENCE", `${operation}: '${repository}' is a reference, not a repository: expected <registry>/<repository> without tag or digest`);
  }
  return ref;
}

function splitOrThrow(reference: string, operation: string): ParsedReference {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw new RegistryError("INVALID_REFERENCE", `${operation}: empty reference: expected <registry>/<repository>[:<tag>][@sha256:<digest>]`);
  }
  const parts = splitImageReference(reference);
  if (parts.repository === "" || !REPOSITORY_PATH_PATTERN.test(parts.repository)) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `${operation}: '${reference}' has a malformed repository '${parts.repository}': expected lowercase path components such as library/python`,
    );
  }
  return parts;
}


export function tagKey(ref: ParsedReference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag ?? ""}`;
}

export function manifestKey(registry: string, repository: string, digest: string): string {
  return `${registry}/${repository}@${digest}`;
}

