import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { BaseImageCatalog, BaseImageVersion } from "@airbyte-ci/base-images";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { ConnectorBuildError } from "../errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { NotRegularFileError, readRegularFileSync } from "../shared/regular-file.ts";
import { setBaseImageInYaml } from "../connector/metadata-edit.ts";
import { findConnectors } from "../connector/discover.ts";
import { MAX_METADATA_BYTES } from "../connector/metadata.ts";
import { describeRuntimeUserChange } from "../connector/runtime-user.ts";
import { filePatch } from "../shared/text-diff.ts";

export async function bumpBaseCommand(dirs: string[], opts: { all?: string; to?: string; catalog?: string; dryRun?: boolean; force?: boolean }): Promise<void> {
  if (opts.all && dirs.length > 0) throw new ConnectorBuildError("USAGE", "bump-base: give connector folders or --all <repo-root>, not both");
  const targets = opts.all ? (await findConnectors(opts.all)).connectors.map((c) => c.dir) : dirs;
  if (targets.length === 0) throw new ConnectorBuildError("USAGE", "bump-base: no connector given: expected <connector-dir>... or --all <repo-root>");
  const { catalog } = loadCatalog(opts.catalog);
  const version = opts.to ? catalog.get(opts.to) : catalog.versions.find((v) => !v.isPrerelease && v.published);
  if (!version) throw new ConnectorBuildError("UNKNOWN_VERSION", `bump-base: the ${catalog.name} catalog has no published non-prerelease version: expected --to <version>`);
  const address = version.publishedAddress;
  if (!address) throw new ConnectorBuildError("UNKNOWN_VERSION", `bump-base: version ${version.version} is not published: expected a published version (connector-build base publish ${version.version})`);
  // Compute every edit first: one bad metadata.yaml stops the run before any file is written.
  const edits: Array<{ path: string; before: string; after: string }> = [];
  const notes: string[] = [];
  for (const dir of targets) {
    const path = join(dir, "metadata.yaml");
    if (!existsSync(path)) throw new ConnectorBuildError("INVALID_METADATA", `${path} does not exist: expected a connector folder holding metadata.yaml`);
    if (existsSync(join(dir, "Dockerfile")) && !opts.force) {
      throw new ConnectorBuildError(
        "USAGE",
        `bump-base: ${join(dir, "Dockerfile")} exists: the connector is still built from its Dockerfile, and setting baseImage would skip every check a migration makes: run connector-build migrate ${dir} (or pass --force to set baseImage anyway)`,
      );
    }
    let before: string;
    try {
      before = readRegularFileSync(path, { maxBytes: MAX_METADATA_BYTES }).toString("utf8");
    } catch (error) {
      if (error instanceof NotRegularFileError) throw new ConnectorBuildError("INVALID_METADATA", error.message);
      if ((error as NodeJS.ErrnoException).code === "EISDIR") throw new ConnectorBuildError("INVALID_METADATA", `${path} is a directory: expected a metadata.yaml file`);
      throw error;
    }
    const after = setBaseImageInYaml(before, address, path);
    if (after !== before) {
      edits.push({ path, before, after });
      const note = describeRuntimeUserChange(currentBase(catalog, before), version);
      if (note) notes.push(`note: ${dir}: ${note}`);
    }
  }
  for (const edit of edits) {
    if (opts.dryRun) process.stdout.write(filePatch({ path: relative(process.cwd(), edit.path).split(sep).join("/"), before: edit.before, after: edit.after }));
    else writeFileAtomic(edit.path, edit.after);
  }
  process.stderr.write(`${opts.dryRun ? "would update" : "updated"} ${edits.length} of ${targets.length} connector(s) to ${address}\n`);
  for (const note of notes) process.stderr.write(`${note}\n`);
}

/** The catalog version a metadata.yaml's baseImage names, if it is one of this catalog's published versions. */
function currentBase(catalog: BaseImageCatalog, metadataYaml: string): BaseImageVersion | undefined {
  const reference = /^\s*baseImage:\s*["']?([^"'\s#]+)/m.exec(metadataYaml)?.[1];
  if (!reference) return undefined;
  try {
    return catalog.resolveAddress(reference, "baseImage");
  } catch {
    return undefined;
  }
}
