import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { z } from "zod";
import { BaseImagesError } from "./errors.ts";
import {
  formatImageAddress,
  isDigest,
  parseImageAddress,
  parseRootImage,
  REPOSITORY_PATTERN,
  splitImageReference,
  type ImageAddress,
  type RootImage,
} from "./image-address.ts";
import { SUPPORTED_PLATFORMS, isPlatform, type Platform } from "./platform.ts";
import { ImageRecipe, recipeSchema } from "./recipe.ts";
import { sanityCheckSchema, type SanityCheck } from "./sanity-check.ts";
import { formatZodIssues } from "./zod-issues.ts";

export { formatZodIssues } from "./zod-issues.ts";

const semverString = z.string().refine((v) => semver.valid(v) !== null && semver.clean(v) === v, {
  message: "must be a semantic version such as 1.2.3 or 1.3.0-rc.1",
});
const digestString = z.string().refine(isDigest, { message: "must be sha256: followed by 64 lowercase hex digits" });
const addressString = z.string().superRefine((value, ctx) => {
  try {
    parseImageAddress(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** zod schema of one base image version as stored in a catalog file. */
export const baseImageVersionSchema = z
  .object({
    /** Semantic version of the base image; prereleases allowed. */
    version: semverString,
    /** What changed in this version, for the changelog. */
    changelog: z.string().min(1, "a changelog entry is required"),
    /** The digest-pinned root image per platform (`registry/repository:tag@sha256:…`). */
    rootImages: z
      .record(z.string(), addressString)
      .refine((r) => Object.keys(r).length > 0, { message: "at least one platform is required" })
      .refine((r) => Object.keys(r).every(isPlatform), {
        message: `platforms must be among ${SUPPORTED_PLATFORMS.join(", ")}`,
      }),
    /** The operations applied on top of the root image, identical on every platform. */
    recipe: recipeSchema,
    /** Checks every built image of this version must pass. */
    sanityChecks: z.array(sanityCheckSchema),
    /** Set once the multi-platform index is published: its digest as the registry reports it. */
    published: z
      .object({
        digest: digestString,
        /** ISO 8601 time of publication. */
        publishedAt: z.string().optional(),
        /** `registry/repository` it was published to, when not the catalog's repository (`--publish-to`). */
        repository: z.string().regex(REPOSITORY_PATTERN).optional(),
      })
      .strict()
      .optional(),
    /** The runnable Dockerfile rendering per platform, recorded at release time for the docs. */
    dockerfiles: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** zod schema of a catalog file. */
export const catalogSchema = z
  .object({
    $schema: z.string().optional(),
    /** Name of the base image family. */
    name: z.string().min(1),
    /** Where versions are published: `registry/repository`, e.g. docker.io/airbyte/python-connector-base. */
    repository: z.string().min(1).refine((r) => !r.includes("@") && !/:[^/]*$/.test(r.split("/").slice(1).join("/")), {
      message: "must be registry/repository without tag or digest",
    }),
    /** Every version, in any order. */
    versions: z.array(baseImageVersionSchema),
  })
  .strict();

/** A catalog file's content, as validated. */
export type CatalogData = z.infer<typeof catalogSchema>;
/** One version as stored. */
export type BaseImageVersionData = z.infer<typeof baseImageVersionSchema>;

/** A base image version: the root image per platform, the recipe, the checks, the changelog. */
export class BaseImageVersion {
  /** Semantic version. */
  readonly version: string;
  /** Changelog entry. */
  readonly changelog: string;
  /** Root image per platform. */
  readonly rootImages: Readonly<Partial<Record<Platform, RootImage>>>;
  /** Operations applied after `from(rootImage)`. */
  readonly recipe: ImageRecipe;
  /** Sanity checks. */
  readonly sanityChecks: readonly SanityCheck[];
  /** Where it was published, when it was. */
  readonly published: { readonly address: ImageAddress; readonly publishedAt?: string } | undefined;
  /** The data it was read from. */
  readonly data: BaseImageVersionData;

  constructor(data: BaseImageVersionData, repository: string) {
    this.data = data;
    this.version = data.version;
    this.changelog = data.changelog;
    const roots: Partial<Record<Platform, RootImage>> = {};
    for (const [platform, address] of Object.entries(data.rootImages)) {
      roots[platform as Platform] = parseRootImage(address, platform, `version ${data.version} root image`);
    }
    this.rootImages = Object.freeze(roots);
    this.recipe = ImageRecipe.fromOperations(data.recipe, `version ${data.version} recipe`);
    this.sanityChecks = Object.freeze(data.sanityChecks.slice());
    if (data.published) {
      const repo = splitImageReference(data.published.repository ?? repository);
      this.published = {
        address: { registry: repo.registry, repository: repo.repository, tag: data.version, digest: data.published.digest },
        ...(data.published.publishedAt !== undefined ? { publishedAt: data.published.publishedAt } : {}),
      };
    } else {
      this.published = undefined;
    }
  }

  /** Platforms this version is built for. */
  get platforms(): Platform[] {
    return SUPPORTED_PLATFORMS.filter((p) => this.rootImages[p] !== undefined);
  }

  /** True when this is a prerelease (1.1.0-rc.1). */
  get isPrerelease(): boolean {
    return semver.prerelease(this.version) !== null;
  }

  /** The root image of one platform; an error names the platforms the version has. */
  rootImage(platform: Platform): RootImage {
    const root = this.rootImages[platform];
    if (!root) {
      throw new BaseImagesError(
        "INVALID_PLATFORM",
        `base image ${this.version} has no root image for ${platform}: expected one of ${this.platforms.join(", ")}`,
      );
    }
    return root;
  }

  /** The full recipe for one platform: `from(root image)` followed by the version's operations. */
  recipeFor(platform: Platform): ImageRecipe {
    return ImageRecipe.empty().from(formatImageAddress(this.rootImage(platform))).concat(this.recipe);
  }

  /** The published address (`registry/repository:version@sha256:…`), when published. */
  get publishedAddress(): string | undefined {
    return this.published ? formatImageAddress(this.published.address) : undefined;
  }
}

/** Result of validating catalog data: every problem at once, for editors and CI. */
export interface CatalogValidation {
  value: BaseImageCatalog | undefined;
  errors: string[];
  warnings: string[];
}

/** Validates catalog data and collects every problem (schema, duplicates, bad recipes). */
export function validateCatalog(data: unknown, where = "catalog"): CatalogValidation {
  const parsed = catalogSchema.safeParse(data);
  if (!parsed.success) return { value: undefined, errors: formatZodIssues(parsed.error, where), warnings: [] };
  const errors: string[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  parsed.data.versions.forEach((v, i) => {
    if (seen.has(v.version)) errors.push(`${where}.versions[${i}].version: duplicate version ${v.version}`);
    seen.add(v.version);
    if (v.sanityChecks.length === 0) warnings.push(`${where}.versions[${i}]: version ${v.version} has no sanity checks`);
  });
  if (errors.length > 0) return { value: undefined, errors, warnings };
  try {
    return { value: new BaseImageCatalog(parsed.data), errors, warnings };
  } catch (error) {
    return { value: undefined, errors: [`${where}: ${(error as Error).message}`], warnings };
  }
}

/** Parses catalog data, throwing one error that lists every problem. */
export function parseCatalog(data: unknown, where = "catalog"): BaseImageCatalog {
  const { value, errors } = validateCatalog(data, where);
  if (!value) {
    throw new BaseImagesError("INVALID_CATALOG", `invalid base image catalog:\n  ${errors.join("\n  ")}`);
  }
  return value;
}

/** A validated, immutable set of base image versions with lookups. */
export class BaseImageCatalog {
  /** The data it was built from. */
  readonly data: CatalogData;
  /** Versions, newest first (semver order). */
  readonly versions: readonly BaseImageVersion[];

  constructor(data: CatalogData) {
    this.data = data;
    this.versions = Object.freeze(
      data.versions.map((v) => new BaseImageVersion(v, data.repository)).sort((a, b) => semver.rcompare(a.version, b.version)),
    );
  }

  /** Name of the base image family. */
  get name(): string {
    return this.data.name;
  }
  /** Where versions are published. */
  get repository(): string {
    return this.data.repository;
  }

  /** The version `version`, or an error listing what exists. */
  get(version: string): BaseImageVersion {
    const found = this.find(version);
    if (!found) {
      throw new BaseImagesError(
        "UNKNOWN_VERSION",
        `base image version '${version}' is not in the ${this.name} catalog: expected one of ${this.versions.map((v) => v.version).join(", ") || "(none)"}`,
      );
    }
    return found;
  }

  /** The version `version`, if present. */
  find(version: string): BaseImageVersion | undefined {
    return this.versions.find((v) => v.version === version);
  }

  /** The highest version, prereleases included. */
  latest(): BaseImageVersion | undefined {
    return this.versions[0];
  }

  /** The highest version that is not a prerelease. */
  latestStable(): BaseImageVersion | undefined {
    return this.versions.find((v) => !v.isPrerelease);
  }

  /** The highest version satisfying a semver range (`^1.0.0`, `~1.1`), prereleases only when asked. */
  maxSatisfying(range: string, options: { includePrerelease?: boolean } = {}): BaseImageVersion | undefined {
    if (semver.validRange(range) === null) {
      throw new BaseImagesError("UNKNOWN_VERSION", `'${range}' is not a semver range: expected e.g. ^1.0.0 or >=1.1 <2`);
    }
    return this.versions.find((v) => semver.satisfies(v.version, range, { includePrerelease: options.includePrerelease ?? false }));
  }

  /**
   * Resolves a full published address (`docker.io/airbyte/python-connector-base:1.0.0@sha256:…`),
   * as written in a connector's metadata, to its version. Tag-only references, other repositories,
   * unknown tags and digests that do not match the published one are refused.
   */
  resolveAddress(reference: string, where = "base image"): BaseImageVersion {
    const address = parseImageAddress(reference, where);
    const repo = splitImageReference(this.repository);
    if (address.registry !== repo.registry || address.repository !== repo.repository) {
      throw new BaseImagesError(
        "UNKNOWN_BASE_IMAGE",
        `${where}: '${reference}' is not from this catalog's repository: expected ${repo.registry}/${repo.repository}:<version>@sha256:… (catalog ${this.name})`,
      );
    }
    const byDigest = this.versions.find((v) => v.published?.address.digest === address.digest);
    if (byDigest) return byDigest;
    const byTag = this.find(address.tag);
    if (byTag?.published) {
      throw new BaseImagesError(
        "UNKNOWN_BASE_IMAGE",
        `${where}: '${reference}' has digest ${address.digest}, but version ${byTag.version} was published as ${byTag.published.address.digest}: expected ${byTag.publishedAddress}`,
      );
    }
    if (byTag) {
      throw new BaseImagesError(
        "UNKNOWN_BASE_IMAGE",
        `${where}: version ${byTag.version} of '${reference}' is in the catalog but not published yet: publish it first (connector-build base publish ${byTag.version})`,
      );
    }
    throw new BaseImagesError(
      "UNKNOWN_BASE_IMAGE",
      `${where}: '${reference}' is not a published version of the ${this.name} catalog: expected one of ${
        this.versions.flatMap((v) => (v.publishedAddress ? [v.publishedAddress] : [])).join(", ") || "(nothing published yet)"
      }`,
    );
  }

  /** A new catalog with `version` added, or replaced when `replace` is set. */
  withVersion(version: BaseImageVersionData, options: { replace?: boolean } = {}): BaseImageCatalog {
    const exists = this.find(version.version);
    if (exists && !options.replace) {
      throw new BaseImagesError("INVALID_CATALOG", `version ${version.version} is already in the ${this.name} catalog`);
    }
    const versions = this.data.versions.filter((v) => v.version !== version.version);
    return parseCatalog({ ...this.data, versions: [...versions, version].sort((a, b) => semver.compare(a.version, b.version)) });
  }

  /** The catalog as JSON data, versions oldest first. */
  toJSON(): CatalogData {
    return { ...this.data, versions: [...this.data.versions].sort((a, b) => semver.compare(a.version, b.version)) };
  }
}

/** Path of the production catalog file shipped with this package. */
export const productionCatalogPath: string = fileURLToPath(new URL("../catalog/production.json", import.meta.url));

/** Loads the production catalog shipped with this package (the only I/O this package does). */
export function loadProductionCatalog(): BaseImageCatalog {
  return parseCatalog(JSON.parse(readFileSync(productionCatalogPath, "utf8")), productionCatalogPath);
}

/** The JSON Schema of catalog files, generated from the zod schema (never kept by hand). */
export function catalogJsonSchema(): unknown {
  return z.toJSONSchema(catalogSchema, { io: "input", unrepresentable: "any" });
}
