/**
 * CycloneDX 1.6 SBOMs of connector images, made with the CycloneDX JavaScript library
 * (`@cyclonedx/cyclonedx-library`): models, then its JSON serializer for spec 1.6.
 *
 * - Per platform image: the image itself (metadata component: repository, tag, manifest digest),
 *   its base image (container component with the base digest), every installed Debian package
 *   (purl `pkg:deb/<distro>/…?arch=…`) and every Python distribution (purl `pkg:pypi/…`, license,
 *   and one nested `file` component per RECORD entry with its sha256).
 * - Per index: the index, one container component per platform image (manifest digest, with a
 *   `bom` external reference to that platform's SBOM), the base image, and the union of the
 *   platforms' Debian packages and Python distributions (without the per-file components, which
 *   the platform SBOMs hold).
 *
 * Output is deterministic: lists sorted, no timestamp unless `SOURCE_DATE_EPOCH`/`timestamp` is
 * given, and a serial number derived from the subject's digest.
 */
import { createHash } from "node:crypto";
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import { fixupSpdxId } from "@cyclonedx/cyclonedx-library/SPDX";
import { PackageURL } from "packageurl-js";
import type { Platform } from "@airbyte-ci/base-images";
import type { DebianPackage, ImageContents, PythonDistribution } from "./image-contents.ts";

/** Media type of a CycloneDX JSON document (and of the SBOM layer of a published SBOM artifact). */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/** The image an SBOM describes. */
export interface SbomSubject {
  /** `registry/repository` (or `dockerRepository` for a local image). */
  readonly repository: string;
  /** Tag, when known. */
  readonly tag?: string;
  /** Digest of the manifest (platform SBOM) or index (index SBOM), when known. */
  readonly digest?: string;
}

/** The base image an image was built on, as its labels say. */
export interface SbomBaseImage {
  /** `registry/repository:tag` (label `org.opencontainers.image.base.name`). */
  readonly name: string;
  /** Digest (label `org.opencontainers.image.base.digest`). */
  readonly digest: string;
}

/** One platform image of an index SBOM. */
export interface SbomPlatformImage {
  readonly platform: Platform;
  readonly subject: SbomSubject;
  readonly contents: ImageContents;
  /** Where its own SBOM is published (`registry/repository:sha256-….sbom`), for a `bom` external reference. */
  readonly sbomReference?: string;
}

/** Options shared by both SBOM builders. */
export interface SbomOptions {
  /** `metadata.timestamp`. Default: from `SOURCE_DATE_EPOCH` when set, else none (deterministic output). */
  readonly timestamp?: Date;
}

const TOOL_NAME = "connector-build";

function timestampOf(options: SbomOptions): Date | undefined {
  if (options.timestamp !== undefined) return options.timestamp;
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : undefined;
}

/** A stable `urn:uuid:` from a string (UUID v5-shaped bits over sha256). */
function serialNumberFor(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function hexOf(digest: string): string | undefined {
  return /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
}

function ociPurl(repository: string, digest: string | undefined, tag: string | undefined, platform?: Platform): string | undefined {
  if (digest === undefined) return undefined;
  const name = repository.split("/").at(-1) as string;
  const qualifiers: Record<string, string> = { repository_url: repository };
  if (tag !== undefined) qualifiers.tag = tag;
  if (platform !== undefined) qualifiers.arch = platform.split("/")[1] as string;
  return new PackageURL("oci", undefined, name, digest, qualifiers, undefined).toString();
}

function containerComponent(subject: SbomSubject, platform: Platform | undefined, bomRef: string): Models.Component {
  const purl = ociPurl(subject.repository, subject.digest, subject.tag, platform);
  const component = new Models.Component(Enums.ComponentType.Container, subject.repository, {
    bomRef,
    ...(subject.tag !== undefined ? { version: subject.tag } : {}),
    ...(purl !== undefined ? { purl } : {}),
  });
  const hex = subject.digest !== undefined ? hexOf(subject.digest) : undefined;
  if (hex !== undefined) component.hashes.set(Enums.HashAlgorithm["SHA-256"], hex);
  if (platform !== undefined) component.properties.add(new Models.Property("oci:platform", platform));
  return component;
}

function baseComponent(base: SbomBaseImage): Models.Component {
  const ref = base.name.split("@")[0] as string;
  const colon = ref.lastIndexOf(":");
  const repository = colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
  const tag = colon > ref.lastIndexOf("/") ? ref.slice(colon + 1) : undefined;
  const component = containerComponent({ repository, digest: base.digest, ...(tag !== undefined ? { tag } : {}) }, undefined, `base-image:${repository}@${base.digest}`);
  component.description = "base image";
  component.properties.add(new Models.Property("org.opencontainers.image.base.name", base.name));
  return component;
}

function debianComponent(pkg: DebianPackage, distro: string | undefined): Models.Component {
  const namespace = distro?.split("-")[0] ?? "debian";
  const qualifiers: Record<string, string> = { arch: pkg.architecture };
  if (distro !== undefined) qualifiers.distro = distro;
  const purl = new PackageURL("deb", namespace, pkg.name, pkg.version, qualifiers, undefined).toString();
  const component = new Models.Component(Enums.ComponentType.Library, pkg.name, { bomRef: purl, version: pkg.version, purl });
  if (pkg.source !== undefined) component.properties.add(new Models.Property("debian:source", pkg.source));
  if (pkg.sourceVersion !== undefined) component.properties.add(new Models.Property("debian:source-version", pkg.sourceVersion));
  if (pkg.maintainer !== undefined) component.publisher = pkg.maintainer;
  return component;
}

function licenseOf(text: string): Models.License {
  const spdx = fixupSpdxId(text);
  return spdx !== undefined ? new Models.SpdxLicense(spdx) : new Models.NamedLicense(text);
}

function pythonComponent(dist: PythonDistribution, withFiles: boolean, bomRef: string): Models.Component {
  const purl = new PackageURL("pypi", undefined, dist.name, dist.version, undefined, undefined).toString();
  const component = new Models.Component(Enums.ComponentType.Library, dist.name, { bomRef, version: dist.version, purl });
  if (dist.license !== undefined) component.licenses.add(licenseOf(dist.license));
  else for (const classifier of dist.licenseClassifiers) component.licenses.add(licenseOf(classifier.split(" :: ").at(-1) as string));
  if (dist.location !== undefined) component.properties.add(new Models.Property("python:location", dist.location));
  if (withFiles) {
    for (const file of dist.files) {
      const child = new Models.Component(Enums.ComponentType.File, file.path, { bomRef: `${bomRef}#${file.path}` });
      child.hashes.set(Enums.HashAlgorithm["SHA-256"], file.sha256);
      component.components.add(child);
    }
  }
  return component;
}

function newBom(subject: SbomSubject, options: SbomOptions, metadataComponent: Models.Component): Models.Bom {
  const timestamp = timestampOf(options);
  const bom = new Models.Bom({ serialNumber: serialNumberFor(`${subject.repository}@${subject.digest ?? subject.tag ?? ""}`) });
  bom.metadata = new Models.Metadata({ component: metadataComponent, ...(timestamp !== undefined ? { timestamp } : {}) });
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, TOOL_NAME, { group: "@airbyte-ci" }));
  return bom;
}

function addContents(bom: Models.Bom, owner: Models.Component, contents: ImageContents, options: { withFiles: boolean; seen: Map<string, Models.Component> }): void {
  for (const pkg of contents.debianPackages) {
    const component = debianComponent(pkg, contents.distro);
    const key = component.bomRef.value as string;
    const existing = options.seen.get(key);
    if (existing) {
      owner.dependencies.add(existing.bomRef);
      continue;
    }
    options.seen.set(key, component);
    bom.components.add(component);
    owner.dependencies.add(component.bomRef);
  }
  for (const dist of contents.pythonDistributions) {
    const base = `pkg:pypi/${dist.name.toLowerCase()}@${dist.version}`;
    // In one image, the same distribution installed in two places stays two components (their files differ).
    const key = options.withFiles && options.seen.has(base) ? `${base}?location=${dist.location ?? "unknown"}` : base;
    const existing = options.seen.get(key);
    if (existing) {
      owner.dependencies.add(existing.bomRef);
      continue;
    }
    const component = pythonComponent(dist, options.withFiles, key);
    options.seen.set(key, component);
    bom.components.add(component);
    owner.dependencies.add(component.bomRef);
  }
}

/** The SBOM of one platform image. */
export function imageSbom(subject: SbomSubject, platform: Platform, contents: ImageContents, base: SbomBaseImage | undefined, options: SbomOptions = {}): Models.Bom {
  const image = containerComponent(subject, platform, "image");
  if (contents.pythonVersion !== undefined) image.properties.add(new Models.Property("python:version", contents.pythonVersion));
  const bom = newBom(subject, options, image);
  if (base !== undefined) {
    const component = baseComponent(base);
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
  }
  addContents(bom, image, contents, { withFiles: true, seen: new Map() });
  return bom;
}

/** The SBOM of a multi-platform index: its platform images, base image, and the union of their packages. */
export function indexSbom(subject: SbomSubject, platforms: readonly SbomPlatformImage[], base: SbomBaseImage | undefined, options: SbomOptions = {}): Models.Bom {
  const index = containerComponent(subject, undefined, "index");
  const bom = newBom(subject, options, index);
  const seen = new Map<string, Models.Component>();
  const baseComp = base !== undefined ? baseComponent(base) : undefined;
  if (baseComp) bom.components.add(baseComp);
  for (const p of platforms) {
    const image = containerComponent(p.subject, p.platform, `image:${p.platform}`);
    if (p.sbomReference !== undefined) image.externalReferences.add(new Models.ExternalReference(p.sbomReference, Enums.ExternalReferenceType.BOM, { comment: "the SBOM of this platform image, with file hashes" }));
    bom.components.add(image);
    index.dependencies.add(image.bomRef);
    if (baseComp) image.dependencies.add(baseComp.bomRef);
    addContents(bom, image, p.contents, { withFiles: false, seen });
  }
  return bom;
}

/** CycloneDX 1.6 JSON text of an SBOM, lists sorted (reproducible). */
export function serializeSbom(bom: Models.Bom, space?: number): string {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, ...(space !== undefined ? { space } : {}) });
}
