import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { isScalar, parseDocument } from "yaml";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { readConnectorMetadata } from "../connector/metadata.ts";
import { setBaseImageInYaml } from "../connector/metadata-edit.ts";
import { BUILD_CUSTOMIZATION_FILES } from "../connector/build-customization.ts";
import { CONNECTOR_CODE_DIR } from "../connector/python-build.ts";
import { unifiedDiff } from "../shared/text-diff.ts";
import { parseDockerfileInstructions, parseEnvArgs, parseExecForm, unquote, type DockerfileInstruction } from "../dockerfile/parse.ts";

/** What a migration would do (or did). */
export interface MigrationPlan {
  readonly connector: string;
  readonly baseImage: string;
  readonly baseImageVersion: string;
  readonly newVersion: string;
  readonly mainFileName: string;
  /** Env vars the common build does not set, moved into a postConnectorInstall hook. */
  readonly extraEnv: ReadonlyArray<readonly [string, string]>;
  /** Dockerfile instructions handled by the common build, with why. */
  readonly covered: ReadonlyArray<{ line: number; text: string; why: string }>;
  /** Generated build_customization.ts, when one is needed. */
  readonly buildCustomization: string | undefined;
  readonly metadataBefore: string;
  readonly metadataAfter: string;
}

/** Env vars only meaningful inside the old Dockerfile (the seed: source-slack's WORKDIR/CODE_PATH). */
const DOCKERFILE_ONLY_ENV = new Set(["WORKDIR", "CODE_PATH"]);
const PACKAGE_INSTALL = /^(?:apt-get update|apt-get install( -y| --yes| --no-install-recommends)* (bash|tzdata|build-essential|build-base)( (bash|tzdata|build-essential|build-base))*|rm -rf \/var\/lib\/apt\/lists\/\*|apk (--no-cache )?(upgrade|add( --no-cache)? (bash|tzdata|build-base)( (bash|tzdata|build-base))*)|pip install (--upgrade|-U) pip|python -m pip install (--upgrade|-U) pip|echo "?Etc\/UTC"? > \/etc\/timezone)$/;

function pipInstall(cmd: string): boolean {
  return /^(python -m )?pip3? install( --no-cache-dir| --no-build-isolation| --prefix=\S+| -q)* (\.|-r requirements\.txt|\.\[main\])$/.test(cmd);
}

/** Classifies a Dockerfile against the common build; refuses with every reason what it cannot express. */
export function planDockerfile(content: string, technicalName: string): {
  mainFileName: string;
  extraEnv: Array<[string, string]>;
  covered: Array<{ line: number; text: string; why: string }>;
  refusals: string[];
} {
  const pkg = technicalName.replaceAll("-", "_");
  const instructions = parseDockerfileInstructions(content);
  const refusals: string[] = [];
  const covered: Array<{ line: number; text: string; why: string }> = [];
  const extraEnv: Array<[string, string]> = [];
  let mainFileName: string | undefined;
  let entrypointEnv: string | undefined;
  const cover = (i: DockerfileInstruction, why: string) => covered.push({ line: i.line, text: i.text, why });
  const refuse = (i: DockerfileInstruction, why: string) => refusals.push(`line ${i.line} '${i.text}': ${why}`);
  const stageNames = new Set<string>();
  for (const i of instructions) {
    switch (i.keyword) {
      case "FROM": {
        const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+as\s+(\S+))?$/i.exec(i.args);
        if (m?.[2]) stageNames.add(m[2].toLowerCase());
        if (m && (stageNames.has((m[1] as string).toLowerCase()) || /(^|\/)python:/.test(m[1] as string))) cover(i, "the common build starts from the digest-pinned base image");
        else refuse(i, "a non-python base image cannot be expressed by the common build");
        break;
      }
      case "WORKDIR":
        if (["/airbyte/integration_code", "$WORKDIR", "${WORKDIR}"].includes(i.args)) cover(i, `the common build works in ${CONNECTOR_CODE_DIR}`);
        else refuse(i, `workdir ${i.args} differs from ${CONNECTOR_CODE_DIR}`);
        break;
      case "COPY": {
        const parts = i.args.split(/\s+/);
        const from = parts.find((p) => p.startsWith("--from="));
        const sources = parts.filter((p) => !p.startsWith("--")).slice(0, -1);
        if (from) {
          cover(i, "multi-stage copies are replaced by the single common build");
          break;
        }
        const known = sources.every((s) => {
          const n = s.replace(/^\.\//, "").replace(/\/$/, "");
          return ["setup.py", "main.py", "main_dev.py", "requirements.txt", "pyproject.toml", "poetry.lock", "README.md", pkg, "$CODE_PATH", "${CODE_PATH}"].includes(n) || /^main[\w]*\.py$/.test(n);
        });
        if (known) cover(i, "the common build copies the manifests, the package and the main file");
        else refuse(i, `copies ${sources.join(", ")}, which the common build does not copy (express it in a hook with withFile/withDirectory)`);
        break;
      }
      case "RUN": {
        const commands = i.args.split(/\s*&&\s*/).map((c) => c.trim());
        const bad = commands.filter((c) => !PACKAGE_INSTALL.test(c) && !pipInstall(c));
        if (bad.length === 0) cover(i, "dependency install, bash, tzdata and pip are handled by the base image and the common build");
        else refuse(i, `runs ${bad.map((b) => `'${b}'`).join(", ")}, which the common build does not do (write a preConnectorInstall hook with withExec)`);
        break;
      }
      case "ENV":
        for (const [name, value] of parseEnvArgs(i.args)) {
          if (name === "AIRBYTE_ENTRYPOINT") entrypointEnv = value;
          else if (DOCKERFILE_ONLY_ENV.has(name)) cover(i, `${name} only served the Dockerfile itself`);
          else extraEnv.push([name, value]);
        }
        if (!covered.some((c) => c.line === i.line)) cover(i, "set by the common build or moved to a hook");
        break;
      case "ENTRYPOINT": {
        const argv = parseExecForm(i.args);
        const m = argv && argv.length === 2 && argv[0] === "python" ? new RegExp(`^${CONNECTOR_CODE_DIR}/([\\w.-]+\\.py)$`).exec(argv[1] as string) : null;
        if (m) {
          mainFileName = m[1] as string;
          cover(i, "the common build sets ENTRYPOINT [python, <main file>]");
        } else refuse(i, `entrypoint ${i.args} is not ["python", "${CONNECTOR_CODE_DIR}/<main file>.py"]`);
        break;
      }
      case "LABEL":
        if (/^io\.airbyte\.(version|name)=/.test(i.args)) cover(i, "the common build sets io.airbyte.version and io.airbyte.name from metadata.yaml");
        else refuse(i, `label ${i.args} is not set by the common build (add it in a postConnectorInstall hook)`);
        break;
      case "ARG":
        refuse(i, "build arguments have no equivalent in the common build");
        break;
      default:
        refuse(i, `${i.keyword} is not expressed by the common build`);
    }
  }
  const main = mainFileName ?? "main.py";
  if (entrypointEnv !== undefined && unquote(entrypointEnv) !== `python ${CONNECTOR_CODE_DIR}/${main}`) {
    refusals.push(`AIRBYTE_ENTRYPOINT '${entrypointEnv}' does not match the entrypoint (python ${CONNECTOR_CODE_DIR}/${main})`);
  }
  return { mainFileName: main, extraEnv, covered, refusals };
}

/** The build_customization.ts a migration writes, or undefined when the defaults suffice. */
export function renderBuildCustomization(mainFileName: string, extraEnv: ReadonlyArray<readonly [string, string]>, technicalName: string): string | undefined {
  if (mainFileName === "main.py" && extraEnv.length === 0) return undefined;
  const lines = [
    'import { defineBuildCustomization } from "@airbyte-ci/hooks";',
    "",
    `// Generated by \`connector-build migrate\` from ${technicalName}'s Dockerfile: what the common build`,
    "// does not do by itself.",
    "export default defineBuildCustomization({",
  ];
  if (mainFileName !== "main.py") lines.push(`  mainFileName: ${JSON.stringify(mainFileName)},`);
  if (extraEnv.length > 0) {
    lines.push("  postConnectorInstall: (recipe) =>", "    recipe");
    extraEnv.forEach(([name, value], i) => lines.push(`      .withEnvVariable(${JSON.stringify(name)}, ${JSON.stringify(value)})${i === extraEnv.length - 1 ? "," : ""}`));
  }
  lines.push("});", "");
  return lines.join("\n");
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
 * Moves a Dockerfile-built connector to the common build: baseImage set to the latest
 * non-prerelease published catalog version, what the common build does not do turned into a
 * generated build_customization.ts, the Dockerfile deleted, the patch version bumped. Refuses, with
 * every reason, what it cannot express; `dryRun` writes nothing.
 */
export async function migrateConnector(dir: string, catalog: BaseImageCatalog, options: { dryRun?: boolean } = {}): Promise<MigrationPlan & { diff: string }> {
  const metadata = await readConnectorMetadata(dir);
  const dockerfilePath = join(metadata.dir, "Dockerfile");
  if (!existsSync(dockerfilePath)) {
    throw new ConnectorBuildError("MIGRATION_REFUSED", `connector ${metadata.technicalName}: no Dockerfile in ${metadata.dir}: it is already on the common build`);
  }
  const existingCustomization = BUILD_CUSTOMIZATION_FILES.map((f) => join(metadata.dir, f)).find((f) => existsSync(f));
  const content = readFileSync(dockerfilePath, "utf8");
  const plan = planDockerfile(content, metadata.technicalName);
  const customization = renderBuildCustomization(plan.mainFileName, plan.extraEnv, metadata.technicalName);
  if (customization && existingCustomization) plan.refusals.push(`${existingCustomization} already exists: merge by hand`);
  if (plan.refusals.length > 0) {
    throw new ConnectorBuildError(
      "MIGRATION_REFUSED",
      `connector ${metadata.technicalName}: cannot migrate ${dockerfilePath} to the common build:\n  ${plan.refusals.join("\n  ")}`,
    );
  }
  const version = catalog.versions.find((v) => !v.isPrerelease && v.published);
  if (!version?.publishedAddress) {
    throw new ConnectorBuildError("MIGRATION_REFUSED", `the ${catalog.name} catalog has no published non-prerelease version to migrate to`);
  }
  const metadataBefore = readFileSync(metadata.metadataPath, "utf8");
  const bumped = bumpPatch(setBaseImageInYaml(metadataBefore, version.publishedAddress, metadata.metadataPath), metadata.metadataPath);
  const customizationPath = join(metadata.dir, "build_customization.ts");
  const diff = [
    unifiedDiff(metadataBefore, bumped.text, metadata.metadataPath),
    customization ? unifiedDiff("", customization, customizationPath).replace(`--- a/${customizationPath}`, "--- /dev/null") : "",
    unifiedDiff(content, "", dockerfilePath).replace(`+++ b/${dockerfilePath}`, "+++ /dev/null"),
  ].join("");
  if (!options.dryRun) {
    if (customization) writeFileAtomic(customizationPath, customization);
    writeFileAtomic(metadata.metadataPath, bumped.text);
    rmSync(dockerfilePath);
  }
  return {
    connector: metadata.technicalName,
    baseImage: version.publishedAddress,
    baseImageVersion: version.version,
    newVersion: bumped.version,
    mainFileName: plan.mainFileName,
    extraEnv: plan.extraEnv,
    covered: plan.covered,
    buildCustomization: customization,
    metadataBefore,
    metadataAfter: bumped.text,
    diff,
  };
}
