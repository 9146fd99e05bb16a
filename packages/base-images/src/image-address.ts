import { BaseImagesError } from "./errors.ts";
import { parsePlatform, type Platform } from "./platform.ts";

/** Docker Hub's canonical registry host in a full address. */
export const DOCKER_HUB = "docker.io";

// The one image-reference grammar of the toolkit (the distribution spec's, restricted to sha256):
// base images, connector metadata and the registry client all read references through it.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const HOST = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)";
const PATH = `${COMPONENT}(?:/${COMPONENT})*`;
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";

/** A repository path in a registry, without host: `library/python`. */
export const REPOSITORY_PATH_PATTERN = new RegExp(`^${PATH}$`);
/** A repository name, with an optional registry host: `127.0.0.1:5000/airbyte/source-x`. */
export const REPOSITORY_PATTERN = new RegExp(`^(?:${HOST}/)?${PATH}$`);
/** A tag. */
export const TAG_PATTERN = new RegExp(`^${TAG}$`);
/** An image reference: repository, optional tag, optional sha256 digest. */
export const IMAGE_REFERENCE_PATTERN = new RegExp(`^(?:${HOST}/)?${PATH}(?::${TAG})?(?:@sha256:[0-9a-f]{64})?$`);

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
const REPOSITORY_COMPONENT = new RegExp(`^${COMPONENT}$`);
const EXPECTED = "expected <registry>/<repository>:<tag>@sha256:<64 hex digits>, e.g. docker.io/library/python:3.9.18-bookworm@sha256:40582fe6…";

/** An image address pinned by digest: what a build pulls, byte for byte, every time. */
export interface ImageAddress {
  /** Registry host (with port), `docker.io` for Docker Hub. */
  readonly registry: string;
  /** Repository path in the registry; Docker Hub official images live under `library/`. */
  readonly repository: string;
  /** Human-readable tag; informative only, the digest decides what is pulled. */
  readonly tag: string;
  /** `sha256:` followed by 64 lowercase hex digits. */
  readonly digest: string;
}

/** A root image: the upstream image a base image version starts from on one platform. */
export interface RootImage extends ImageAddress {
  /** The platform this digest is the manifest of. */
  readonly platform: Platform;
}

/** True when `digest` is a well-formed sha256 digest. */
export function isDigest(digest: string): boolean {
  return DIGEST_PATTERN.test(digest);
}

/** Checks a digest, refusing anything but `sha256:` + 64 lowercase hex digits. */
export function assertDigest(digest: string, where: string): string {
  if (!isDigest(digest)) {
    throw new BaseImagesError(
      "INVALID_IMAGE_ADDRESS",
      `${where}: malformed digest '${digest}': expected sha256: followed by 64 lowercase hex digits`,
    );
  }
  return digest;
}

function looksLikeRegistry(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/** Splits any image reference into its parts, normalising Docker Hub names; no part is required. */
export function splitImageReference(reference: string): {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
} {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeRegistry(parts[0] as string)) {
    registry = parts.shift() as string;
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  let repository = parts.join("/");
  if (registry === DOCKER_HUB && parts.length === 1) repository = `library/${repository}`;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/**
 * Parses a full, digest-pinned address such as
 * `docker.io/library/python:3.9.18-bookworm@sha256:40582fe6…`. Short Docker Hub names are
 * normalised (`python:3.9@sha256:…` → `docker.io/library/python:3.9@sha256:…`). A reference without
 * a digest (tag-only) or with a malformed digest is refused: tags move, digests do not.
 */
export function parseImageAddress(reference: string, where = "image address"): ImageAddress {
  const input = reference.trim();
  if (input === "") {
    throw new BaseImagesError("INVALID_IMAGE_ADDRESS", `${where}: empty image address: ${EXPECTED}`);
  }
  const { registry, repository, tag, digest } = splitImageReference(input);
  if (digest === undefined) {
    throw new BaseImagesError(
      "INVALID_IMAGE_ADDRESS",
      `${where}: '${reference}' is a tag-only reference: a tag can point to a different image tomorrow; ${EXPECTED}`,
    );
  }
  assertDigest(digest, `${where} '${reference}'`);
  if (tag === undefined || tag === "") {
    throw new BaseImagesError("INVALID_IMAGE_ADDRESS", `${where}: '${reference}' has no tag: ${EXPECTED}`);
  }
  if (!TAG_PATTERN.test(tag)) {
    throw new BaseImagesError("INVALID_IMAGE_ADDRESS", `${where}: '${reference}' has a malformed tag '${tag}': ${EXPECTED}`);
  }
  if (repository === "" || !repository.split("/").every((c) => REPOSITORY_COMPONENT.test(c))) {
    throw new BaseImagesError(
      "INVALID_IMAGE_ADDRESS",
      `${where}: '${reference}' has a malformed repository '${repository}': expected lowercase path components such as library/python`,
    );
  }
  return { registry, repository, tag, digest };
}

/** Prints the full address: `registry/repository:tag@sha256:…`. */
export function formatImageAddress(address: ImageAddress): string {
  return `${address.registry}/${address.repository}:${address.tag}@${address.digest}`;
}

/** Parses a root image address for one platform; refuses tag-only references and unknown platforms. */
export function parseRootImage(reference: string, platform: string, where = "root image"): RootImage {
  const parsedPlatform = parsePlatform(platform, where);
  return { ...parseImageAddress(reference, `${where} (${parsedPlatform})`), platform: parsedPlatform };
}

/** True when two addresses name the same image (registry, repository and digest; the tag is informative). */
export function sameImage(a: ImageAddress, b: ImageAddress): boolean {
  return a.registry === b.registry && a.repository === b.repository && a.digest === b.digest;
}
