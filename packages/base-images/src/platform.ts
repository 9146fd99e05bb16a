import { z } from "zod";
import { BaseImagesError } from "./errors.ts";

/** The platforms a base image is built for. */
export const SUPPORTED_PLATFORMS = ["linux/amd64", "linux/arm64"] as const;

/** A supported OCI platform, `os/architecture`. */
export type Platform = (typeof SUPPORTED_PLATFORMS)[number];

/** zod schema of a supported platform. */
export const platformSchema = z.enum(SUPPORTED_PLATFORMS);

/** True when `value` is one of {@link SUPPORTED_PLATFORMS}. */
export function isPlatform(value: string): value is Platform {
  return (SUPPORTED_PLATFORMS as readonly string[]).includes(value);
}

/** Parses a platform such as `linux/amd64`; anything else is refused with the list of supported ones. */
export function parsePlatform(value: string, where = "platform"): Platform {
  const trimmed = value.trim();
  if (isPlatform(trimmed)) return trimmed;
  throw new BaseImagesError(
    "INVALID_PLATFORM",
    `${where}: unknown platform '${value}': expected one of ${SUPPORTED_PLATFORMS.join(", ")}`,
  );
}

/** Parses a comma-separated platform list (`linux/amd64,linux/arm64`), without duplicates. */
export function parsePlatformList(value: string, where = "platforms"): Platform[] {
  const parts = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) {
    throw new BaseImagesError("INVALID_PLATFORM", `${where}: empty platform list: expected e.g. linux/amd64,linux/arm64`);
  }
  return [...new Set(parts.map((p) => parsePlatform(p, where)))];
}

/** The architecture part of a platform: `linux/arm64` → `arm64`. */
export function platformArchitecture(platform: Platform): string {
  return platform.split("/")[1] as string;
}
