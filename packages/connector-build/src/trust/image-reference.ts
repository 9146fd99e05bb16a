import { REPOSITORY_PATH_PATTERN, splitImageReference } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";

/** A reference whose registry the user named (signing or verifying `python:3.11` would guess Docker Hub). */
export interface QualifiedReference {
  readonly reference: string;
  /** `registry/repository`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** True when the first component of a reference is a registry host (`localhost`, a dotted name, a host:port). */
export function namesRegistry(first: string): boolean {
  return first === "localhost" || first.includes(".") || first.includes(":");
}

/**
 * Checks that `value` is `<registry>/<repository>[:<tag>][@sha256:<digest>]` with an explicit
 * registry; `repositoryOnly` refuses a tag or digest. INVALID_REFERENCE (exit 2) otherwise.
 */
export function qualifiedReference(value: string, what: string, options: { repositoryOnly?: boolean } = {}): QualifiedReference {
  const expected = options.repositoryOnly ? "<registry>/<repository>, e.g. 127.0.0.1:5000/airbyte/python-connector-base" : "<registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>, e.g. 127.0.0.1:5000/airbyte/source-tickets:0.1.0";
  const trimmed = value.trim();
  const first = trimmed.split("/")[0] ?? "";
  if (!trimmed.includes("/") || !namesRegistry(first)) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `${what} '${value}' names no registry (its first part '${first}' is not a host): expected ${expected}`);
  }
  const parts = splitImageReference(trimmed);
  if (parts.repository === "" || !REPOSITORY_PATH_PATTERN.test(parts.repository)) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `${what} '${value}' has a malformed repository '${parts.repository}': expected ${expected}`);
  }
  if (options.repositoryOnly && (parts.tag !== undefined || parts.digest !== undefined)) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `${what} '${value}' is a reference, not a repository: expected ${expected} without tag or digest`);
  }
  if (!options.repositoryOnly && parts.tag === undefined && parts.digest === undefined) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `${what} '${value}' names neither a tag nor a digest: expected ${expected}`);
  }
  if (parts.digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(parts.digest)) {
    throw new ConnectorBuildError("INVALID_REFERENCE", `${what} '${value}' has a malformed digest '${parts.digest}': expected sha256: and 64 lowercase hex digits`);
  }
  return {
    reference: trimmed,
    repository: `${parts.registry}/${parts.repository}`,
    ...(parts.tag !== undefined ? { tag: parts.tag } : {}),
    ...(parts.digest !== undefined ? { digest: parts.digest } : {}),
  };
}
