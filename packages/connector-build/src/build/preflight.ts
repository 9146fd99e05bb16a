import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { IMAGE_REFERENCE_PATTERN } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import type { RegistryClient } from "../registry/registry-client.ts";
import { outputFileProblem, writableFolderProblem } from "../shared/output-file.ts";
import { machineLockDir, takePidLock } from "../shared/pid-lock.ts";
import { readConnectorMetadata, type ConnectorMetadata } from "../connector/metadata.ts";
import type { BuildOutput } from "./output.ts";

/** What {@link preflightBuild} needs. */
export interface PreflightOptions {
  readonly output: BuildOutput;
  /** Overwrite existing output files and registry tags. Default false. */
  readonly force?: boolean;
  /** Checks registry outputs before any build (reachable, credentials may push, tag unused). Default: not checked. */
  readonly registry?: RegistryClient;
}

/** What a preflight found: where each connector goes, and the locks to release when done. */
export interface Preflight {
  /** True when `oci:` names a folder holding one tarball per connector. */
  readonly ociMany: boolean;
  /** Releases the publish locks taken. */
  readonly release: () => void;
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * Checks every output-related input of a build before any work, so that what would fail after a
 * full build (or silently lose an output) fails first, with exit 2:
 * - `oci:` — the parent folder exists and takes new files; two connectors with one folder name
 *   would write one file; an existing regular file is only replaced with `force`, and a directory,
 *   device, FIFO or socket never;
 * - `registry:` — every target is a valid reference (lowercase, at most 255 characters); two
 *   connectors never push one tag; the registry is reachable and accepts the credentials' pushes;
 *   an existing tag is only replaced with `force`; a lock per tag on this machine (in
 *   {@link machineLockDir}, shared whatever each process's TMPDIR) refuses a second build pushing
 *   the same tag at once. The limit: builds on other machines are only caught by the
 *   tag check, so two that both check before either pushes can still race (a registry has no
 *   conditional PUT); the check is repeated just before pushing to narrow that window.
 * Connectors whose metadata cannot be read are left to the build, which reports them.
 */
export async function preflightBuild(dirs: readonly string[], options: PreflightOptions): Promise<Preflight> {
  const output = options.output;
  const metadata: ConnectorMetadata[] = [];
  for (const dir of dirs) {
    const read = await readConnectorMetadata(dir).catch(() => undefined);
    if (read) metadata.push(read);
  }
  const ociMany = output.kind === "oci" && (dirs.length > 1 || isDir(output.path));
  const releases: Array<() => void> = [];
  const release = () => {
    for (const r of releases.splice(0)) r();
  };
  try {
    if (output.kind === "oci") {
      const parent = dirname(output.path);
      if (!isDir(parent)) throw new ConnectorBuildError("USAGE", `--output oci:${output.path}: the folder ${parent} does not exist: expected an existing folder`);
      const files = new Map<string, string>();
      for (const m of metadata) {
        const file = ociMany ? join(output.path, `${m.technicalName}.tar`) : output.path;
        const other = files.get(file);
        if (other !== undefined) {
          throw new ConnectorBuildError("USAGE", `--output oci:${output.path}: ${other} and ${m.dir} would both be written to ${file} (same folder name ${m.technicalName}): expected one connector per file`);
        }
        files.set(file, m.dir);
        // Only a regular file is ever replaced (and only with --force): never a directory or a device.
        // The SBOMs written beside it (<file>[.<arch>].cdx.json) are replaced as the tarball is, but only when regular files.
        const sboms = ["", ".amd64", ".arm64"].map((arch) => `${file}${arch}.cdx.json`);
        const problem = outputFileProblem(file, { replace: options.force === true }) ?? sboms.map((sbom) => outputFileProblem(sbom, { replace: true })).find((p) => p !== undefined);
        if (problem !== undefined) throw new ConnectorBuildError("USAGE", `--output oci:${output.path}: ${problem}`);
      }
      if (ociMany) mkdirSync(output.path, { recursive: true });
      // Found now, not after a full build: the tarballs are written beside their final names.
      const unwritable = writableFolderProblem(ociMany ? output.path : parent);
      if (unwritable !== undefined) throw new ConnectorBuildError("USAGE", `--output oci:${output.path}: ${unwritable}`);
    }
    if (output.kind === "registry") {
      const targets = new Map<string, string>();
      for (const m of metadata) {
        const repository = `${output.prefix}/${m.dockerRepository}`;
        const target = `${repository}:${m.dockerImageTag}`;
        if (!IMAGE_REFERENCE_PATTERN.test(target) || repository.length > 255) {
          throw new ConnectorBuildError("USAGE", `connector ${m.technicalName}: cannot publish to ${JSON.stringify(target.slice(0, 300))}: expected <registry>/<lowercase repository of at most 255 characters>:<tag>`);
        }
        const other = targets.get(target);
        if (other !== undefined) throw new ConnectorBuildError("USAGE", `${other} and ${m.dir} would both be published as ${target}: expected one connector per tag`);
        targets.set(target, m.dir);
        // In the machine's lock folder, not $TMPDIR: two builds with different TMPDIRs must meet.
        const lockPath = join(machineLockDir(), `airbyte-ci-publish-${createHash("sha256").update(target).digest("hex").slice(0, 32)}.lock`);
        releases.push(
          takePidLock(lockPath, (pid) => new ConnectorBuildError("USAGE", `another build (pid ${pid}) is publishing ${target} now: expected one build per tag at a time`)),
        );
        if (options.registry) {
          await options.registry.checkPushAccess(repository).catch((error: unknown) => {
            throw new ConnectorBuildError("USAGE", `--output registry:${output.prefix}: checked before building: ${(error as Error).message}`, { cause: error });
          });
          if (!options.force && (await options.registry.tagExists(repository, m.dockerImageTag))) {
            throw new ConnectorBuildError("USAGE", `${target} is already in the registry: expected an unused tag (bump dockerImageTag, or --force to replace it)`);
          }
        }
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  return { ociMany, release };
}
