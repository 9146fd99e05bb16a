import { formatZodIssues } from "@airbyte-ci/base-images";
import { z } from "zod";
import { ACCEPT_MANIFESTS, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPES, type FetchedManifest, type ImageIndex, type ImageManifest } from "./oci-types.ts";
import { RegistryError } from "./registry-error.ts";

const digestSchema = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, "expected <algorithm>:<hex>");
const platformSchema = z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() });
const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  platform: platformSchema.optional(),
});
const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});
const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});
export const imageConfigSchema = z.looseObject({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(z.string()) }),
});
export const tagListSchema = z.looseObject({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() });
export const tokenResponseSchema = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
});

export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: { registry: string; repository: string; digest: string; url: string },
): FetchedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new RegistryError("INVALID_MANIFEST", `Registry ${where.registry}: GET ${where.url} returned a manifest that is not JSON: ${(error as Error).message}`, {
      registry: where.registry,
      url: where.url,
      cause: error,
    });
  }
  const declared = (json as { mediaType?: unknown } | null)?.mediaType;
  let mediaType =
    contentType !== undefined && contentType !== "application/json" && contentType !== "application/octet-stream"
      ? contentType
      : typeof declared === "string"
        ? declared
        : undefined;
  if (mediaType === undefined) {
    const shape = json as { manifests?: unknown; config?: unknown } | null;
    mediaType = Array.isArray(shape?.manifests) ? MEDIA_TYPES.ociIndex : shape?.config !== undefined ? MEDIA_TYPES.ociManifest : "";
  }
  const base = { registry: where.registry, repository: where.repository, digest: where.digest, mediaType, size: bytes.byteLength, bytes };
  if (INDEX_MEDIA_TYPES.includes(mediaType)) {
    const parsed = imageIndexSchema.safeParse(json);
    if (parsed.success) return { ...base, kind: "index", manifest: parsed.data as unknown as ImageIndex };
    throw malformed(where, mediaType, formatZodIssues(parsed.error, mediaType).join("; "));
  }
  if (MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    const parsed = imageManifestSchema.safeParse(json);
    if (parsed.success) return { ...base, kind: "manifest", manifest: parsed.data as unknown as ImageManifest };
    throw malformed(where, mediaType, formatZodIssues(parsed.error, mediaType).join("; "));
  }
  throw new RegistryError(
    "INVALID_MANIFEST",
    `Registry ${where.registry}: GET ${where.url} returned a manifest of media type '${mediaType}': expected one of ${ACCEPT_MANIFESTS} (Docker schema 1 is not supported)`,
    { registry: where.registry, url: where.url },
  );
}

function malformed(where: { registry: string; url: string }, mediaType: string, issues: string): RegistryError {
  return new RegistryError("INVALID_MANIFEST", `Registry ${where.registry}: GET ${where.url} returned a malformed ${mediaType}: ${issues.replace(/\n/g, " ")}`, {
    registry: where.registry,
    url: where.url,
  });
}
