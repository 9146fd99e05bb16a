import { createHash } from "node:crypto";
import { isDigest, type Platform } from "@airbyte-ci/base-images";
import type { FetchedManifest, ImagePlatform } from "./oci-types.ts";
import { RegistryError } from "./registry-error.ts";


/** `linux/arm64` → `{ os: "linux", architecture: "arm64" }`; objects are returned as they are. */
export function toImagePlatform(platform: Platform | ImagePlatform): ImagePlatform {
  if (typeof platform !== "string") return platform;
  const [os, architecture, variant] = platform.split("/");
  return { os: os as string, architecture: architecture as string, ...(variant !== undefined ? { variant } : {}) };
}

/** `{ os: "linux", architecture: "arm64", variant: "v8" }` → `linux/arm64/v8`. */
export function formatImagePlatform(platform: ImagePlatform): string {
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join("/");
}

/** The variant a platform has when it names none (`arm64` → `v8`, `amd64` → `v1`). */
function defaultVariant(architecture: string): string | undefined {
  if (architecture === "arm64") return "v8";
  if (architecture === "amd64") return "v1";
  return undefined;
}

/** True when an image of platform `actual` is what `wanted` asks for (a default variant equals no variant). */
export function platformMatches(actual: ImagePlatform, wanted: Platform | ImagePlatform): boolean {
  const w = toImagePlatform(wanted);
  if (actual.os !== w.os || actual.architecture !== w.architecture) return false;
  const normal = (v: string | undefined) => v ?? defaultVariant(actual.architecture);
  return normal(actual.variant) === normal(w.variant);
}

/** Digest of `bytes` with the algorithm of `like` (sha256 by default): `sha256:<hex>`. */
export function computeDigest(bytes: Uint8Array, like = "sha256:"): string {
  const algorithm = like.slice(0, like.indexOf(":"));
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new RegistryError("DIGEST_MISMATCH", `cannot verify digest ${like}: unsupported algorithm '${algorithm}': expected sha256 or sha512`);
  }
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

export function isWellFormedDigest(value: string): boolean {
  return isDigest(value) || /^sha512:[0-9a-f]{128}$/.test(value);
}

export function assertWellFormedDigest(digest: string, where: string): void {
  if (!isWellFormedDigest(digest)) {
    throw new RegistryError("INVALID_REFERENCE", `${where}: malformed digest '${digest}': expected sha256: followed by 64 lowercase hex digits`);
  }
}


export function indexRefusal(reference: string, fetched: FetchedManifest & { kind: "index" }, platform: Platform | undefined): RegistryError {
  const held = fetched.manifest.manifests.map(
    (m) => `${m.platform !== undefined ? formatImagePlatform(m.platform) : "unknown platform"} (${m.digest})`,
  );
  const match = platform === undefined ? undefined : fetched.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform));
  const hint =
    match !== undefined
      ? `; pin ${fetched.registry}/${fetched.repository}@${match.digest} for ${platform}`
      : platform !== undefined
        ? `; it holds no ${platform} manifest`
        : "";
  return new RegistryError(
    "IS_INDEX",
    `${reference} is a multi-platform index (${fetched.mediaType}) holding ${held.length > 0 ? held.join(", ") : "no manifests"}: expected the digest of a single-platform manifest${platform !== undefined ? ` for ${platform}` : ""}${hint}`,
    { registry: fetched.registry },
  );
}

