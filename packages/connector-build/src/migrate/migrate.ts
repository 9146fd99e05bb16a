import { existsSync, lstatSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import semver from "semver";
import { isScalar, parseDocument } from "yaml";
import { recipeRuntimeUser, type BaseImageCatalog, type BaseImageVersion } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { readConnectorMetadata } from "../connector/metadata.ts";
import { setBaseImageInYaml } from "../connector/metadata-edit.ts";
import { BUILD_CUSTOMIZATION_FILES } from "../connector/build-customization.ts";
import { filePatch, type FileChange } from "../shared/text-diff.ts";
import { decodePythonText, InvalidUtf8Error } from "../analyze/dockerfile-variant.ts";
import { readRegularFileSync } from "../shared/regular-file.ts";
import { planDockerfile, renderBuildCustomization, type CoveredInstruction } from "./plan-dockerfile.ts";

/** What a migration would do (or did). */
export interface MigrationPlan {
  readonly connector: string;
  /** The connector folder (absolute). */
  readonly dir: string;
  readonly baseImage: string;
  readonly baseImageVersion: string;
  /** False when the catalog's latest version is not published yet: only a dry run can plan against it. */
  readonly baseImagePublished: boolean;
  readonly newVersion: string;
  readonly mainFileName: string;
  /** Env vars the common build does not set, moved into a postConnectorInstall hook. */
  readonly extraEnv: ReadonlyArray<readonly [string, string]>;
  /** Dockerfile instructions handled by the common build, with why. */
  readonly covered: readonly CoveredInstruction[];
  /** Differences the migration brings on purpose (new base image, dropped Dockerfile-only env…). */
  readonly expectedChanges: readonly string[];
  /** Generated build_customization.ts, when one is needed. */
  readonly buildCustomization: string | undefined;
  readonly metadataBefore: string;
  readonly metadataAfter: string;
  /** The files the migration creates, edits and deletes (paths absolute). */
  readonly changes: readonly FileChange[];
}

/** Options of {@link planMigration} and {@link migrateConnector}. */
export interface MigrationOptions {
  /** Write nothing; an unpublished latest catalog version is planned against (default false). */
  readonly dryRun?: boolean;
  /** Folder the patch's paths are relative to. Default: the working directory when it holds the connector, else the connector's parent. */
  readonly patchRoot?: string;
}

function bumpPatch(source: string, path: string): { text: string; version: string } {
  const doc = parseDocument(source);
  const node = doc.getIn(["data", "dockerImageTag"], true);
  if (!isScalar(node) || !node.range) throw new ConnectorBuildError("INVALID_METADATA", `${path}: data.dockerImageTag is missing`);
  const current = String(node.value);
  const next = semver.valid(current) ? semver.inc(current, "patch") : null;
  if (!next) throw new ConnectorBuildError("MIGRATION_REFUSED", `${path}: data.dockerImageTag '${current}' is not a semantic version: expected e.g. 1.2.3 to bump its patch`);
  const [start, end] = node.range;
  const original = source.slice(start, end);
  const quote = original.startsWith('"') ? '"' : original.startsWith("'") ? "'" : "";
  return { text: `${source.slice(0, start)}${quote}${next}${quote}${source.slice(end)}`, version: next };
}

/**
 * The version a migration targets: the catalog's latest non-prerelease version, published or not.
 * Writing needs it published; a dry run plans against its tag and says so.
 */
export function migrationTarget(catalog: BaseImageCatalog, dryRun: boolean): { version: BaseImageVersion; address: string; published: boolean } {
  const version = catalog.latestStable();
  if (!version) {
    throw new ConnectorBuildError("MIGRATION_REFUSED", `the ${catalog.name} catalog has no non-prerelease version to migrate to: pass --catalog <local|path to a catalog JSON> naming one`);
  }
  if (version.publishedAddress) return { version, address: version.publishedAddress, published: true };
  if (!dryRun) {
    throw new ConnectorBuildError(
      "MIGRATION_REFUSED",
      `the ${catalog.name} catalog's latest version ${version.version} is not published, so metadata.yaml cannot pin its digest: publish it (connector-build base publish ${version.version} --catalog ${catalog.name}), pass --catalog <local|path> naming a catalog whose latest version is published, or look at the plan with --dry-run`,
    );
  }
  return { version, address: `${catalog.repository}:${version.version}`, published: false };
}

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The Dockerfile as text, or an error saying why it is not one (a link loop, a binary file, a FIFO). */
function readDockerfile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ELOOP" ? "is a symbolic link loop" : code === "ENOENT" ? "is a dangling symbolic link" : (error as Error).message.startsWith(path) ? (error as Error).message.slice(path.length + 1) : `cannot be read (${code ?? (error as Error).message})`;
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} ${why}: expected a Dockerfile (a text file) to migrate`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} is not a text file (a NUL byte at byte ${nul}): expected a Dockerfile to migrate`);
  try {
    decodePythonText(bytes);
    return bytes.toString("utf8");
  } catch (error) {
    if (error instanceof InvalidUtf8Error) throw new ConnectorBuildError("INVALID_CONNECTOR", `${path} is ${error.message}: expected a Dockerfile to migrate`);
    throw error;
  }
}

/**
 * A migration edits metadata.yaml where it is: a link to a file outside the tree the patch names
 * would be written through (another repository's file changed, the patch naming this one): refused.
 */
function refuseMetadataOutside(metadataPath: string, root: string): void {
  if (!lstatSync(metadataPath).isSymbolicLink()) return;
  const target = realpathSync(metadataPath);
  const rel = relative(realpathSync(root), target);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new ConnectorBuildError("MIGRATION_REFUSED", `${metadataPath} is a symbolic link to ${target}, outside ${root}: a migration would change that file while its patch names this one; expected metadata.yaml inside the tree (replace the link by a copy)`);
  }
}

/** A path for the patch: relative to `root`, `/` separators. */
function patchPath(root: string, path: string): string {
  const rel = relative(root, path);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new ConnectorBuildError("USAGE", `${path} is outside ${root}: the patch cannot name it relatively`);
  }
  return rel.split(sep).join("/");
}

function defaultPatchRoot(dir: string): string {
  const cwd = process.cwd();
  const rel = relative(cwd, dir);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? cwd : resolve(dir, "..");
}

/** A patch of `changes` with paths relative to `root`: what `git apply` and `patch -p1` take. */
export function migrationPatch(changes: readonly FileChange[], root: string): string {
  return changes.map((c) => filePatch({ ...c, path: patchPath(root, c.path) })).join("");
}

/**
 * Plans moving a Dockerfile-built connector to the common build, writing nothing: baseImage set to
 * the catalog's latest non-prerelease version, what the common build does not do turned into a
 * generated build_customization.ts, the Dockerfile deleted, the patch version bumped.
 *
 * @throws ConnectorBuildError `MIGRATION_REFUSED` with every line-level reason when the Dockerfile
 * does something the common build cannot express.
 */
export async function planMigration(dir: string, catalog: BaseImageCatalog, options: MigrationOptions = {}): Promise<MigrationPlan> {
  const metadata = await readConnectorMetadata(dir);
  const dockerfilePath = join(metadata.dir, "Dockerfile");
  // lstat, not exists: a dangling link or a link loop is a Dockerfile that cannot be read, not none.
  if (!lexists(dockerfilePath)) {
    throw new ConnectorBuildError("MIGRATION_REFUSED", `connector ${metadata.technicalName}: no Dockerfile in ${metadata.dir}: it is already on the common build`);
  }
  refuseMetadataOutside(metadata.metadataPath, options.patchRoot ?? defaultPatchRoot(metadata.dir));
  const existingCustomization = BUILD_CUSTOMIZATION_FILES.map((f) => join(metadata.dir, f)).find((f) => existsSync(f));
  const content = readDockerfile(dockerfilePath);
  const targetBase = catalog.latestStable();
  const plan = planDockerfile(content, metadata.technicalName, targetBase ? { runtimeUser: recipeRuntimeUser(targetBase.recipe).user, baseVersion: targetBase.version } : {});
  const customization = renderBuildCustomization(plan.mainFileName, plan.extraEnv, metadata.technicalName);
  if (customization && existingCustomization) plan.refusals.push(`${existingCustomization} already exists: merge by hand`);
  if (plan.refusals.length > 0) {
    throw new ConnectorBuildError(
      "MIGRATION_REFUSED",
      `connector ${metadata.technicalName}: cannot migrate ${dockerfilePath} to the common build:\n  ${plan.refusals.join("\n  ")}`,
    );
  }
  const target = migrationTarget(catalog, options.dryRun ?? false);
  const metadataBefore = readFileSync(metadata.metadataPath, "utf8");
  const bumped = bumpPatch(setBaseImageInYaml(metadataBefore, target.address, metadata.metadataPath), metadata.metadataPath);
  const customizationPath = join(metadata.dir, "build_customization.ts");
  const changes: FileChange[] = [{ path: metadata.metadataPath, before: metadataBefore, after: bumped.text }];
  if (customization) changes.push({ path: customizationPath, before: undefined, after: customization });
  changes.push({ path: dockerfilePath, before: content, after: undefined });
  return {
    connector: metadata.technicalName,
    dir: metadata.dir,
    baseImage: target.address,
    baseImageVersion: target.version.version,
    baseImagePublished: target.published,
    newVersion: bumped.version,
    mainFileName: plan.mainFileName,
    extraEnv: plan.extraEnv,
    covered: plan.covered,
    expectedChanges: plan.expectedChanges,
    buildCustomization: customization,
    metadataBefore,
    metadataAfter: bumped.text,
    changes,
  };
}

/** Writes a plan's changes under `dir` (the connector folder, or a copy of it: paths are re-rooted). */
export function applyMigration(plan: MigrationPlan, dir: string = plan.dir): void {
  for (const change of plan.changes) {
    const path = join(dir, relative(plan.dir, change.path));
    if (change.after === undefined) rmSync(path, { force: true });
    else writeFileAtomic(path, change.after);
  }
}

/**
 * Moves a Dockerfile-built connector to the common build ({@link planMigration}), writing the
 * changes unless `dryRun`; returns the plan and its patch.
 */
export async function migrateConnector(dir: string, catalog: BaseImageCatalog, options: MigrationOptions = {}): Promise<MigrationPlan & { diff: string }> {
  const plan = await planMigration(dir, catalog, options);
  const diff = migrationPatch(plan.changes, options.patchRoot ?? defaultPatchRoot(plan.dir));
  if (!options.dryRun) applyMigration(plan);
  return { ...plan, diff };
}
