import { CONNECTOR_CODE_DIR } from "../connector/python-build.ts";
import { parseDockerfileInstructions, parseEnvArgs, parseExecForm, unquote, type DockerfileInstruction } from "../dockerfile/parse.ts";

/** A Dockerfile instruction the common build takes over, with why. */
export interface CoveredInstruction {
  readonly line: number;
  readonly text: string;
  readonly why: string;
}

/** What {@link planDockerfile} finds: what the common build does, what a hook must do, what it cannot express. */
export interface DockerfilePlan {
  mainFileName: string;
  /** Env vars the common build does not set, moved into a postConnectorInstall hook. */
  extraEnv: Array<[string, string]>;
  covered: CoveredInstruction[];
  /** One line-level reason per instruction the common build cannot express. */
  refusals: string[];
  /** Differences the migration brings on purpose (a verification treats them as expected). */
  expectedChanges: string[];
}

/**
 * The official python image, however it is written (`python:3.9`, `docker.io/library/python:3.9`),
 * or a mirror of it in a registry named by host (`127.0.0.1:5000/python:…`, `mirror.example/library/python:…`);
 * never a Docker Hub user's image (`evilcorp/python:3.9-alpine`).
 */
function isOfficialPython(image: string): boolean {
  const parts = image.split("/");
  if (!/^python(?:[:@]|$)/i.test(parts.pop() ?? "")) return false;
  if (parts.at(-1)?.toLowerCase() === "library") parts.pop();
  if (parts.length === 0) return true;
  // One component left: a registry host (a dot, a port or localhost), not a Docker Hub namespace.
  return parts.length === 1 && (/[.:]/.test(parts[0] as string) || parts[0] === "localhost");
}

/** A `$NAME` or `${NAME}` reference: the common build writes values literally, so it cannot expand one. */
const VARIABLE_REFERENCE = /\$(?:\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)/;

/** Env vars only meaningful inside the old Dockerfile (the seed: source-slack's WORKDIR/CODE_PATH). */
const DOCKERFILE_ONLY_ENV = new Set(["WORKDIR", "CODE_PATH"]);
/** System packages the base image already has: installing them in a connector image changes nothing. */
const BASE_IMAGE_PACKAGES = new Set(["bash", "tzdata", "ca-certificates"]);

interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  readonly image: string;
  readonly instructions: DockerfileInstruction[];
  readonly from: DockerfileInstruction;
}

function splitStages(instructions: readonly DockerfileInstruction[]): { preamble: DockerfileInstruction[]; stages: Stage[] } {
  const preamble: DockerfileInstruction[] = [];
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.keyword === "FROM") {
      const tokens = i.args.split(/\s+/).filter((t) => !t.startsWith("--"));
      const name = tokens[1]?.toLowerCase() === "as" ? tokens[2]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, name, image: tokens[0] ?? "", instructions: [], from: i });
    } else if (stages.length === 0) preamble.push(i);
    else stages[stages.length - 1]?.instructions.push(i);
  }
  return { preamble, stages };
}

/** The stages whose filesystem the final image starts from: the last stage and the stages its FROM names, transitively. */
function finalChain(stages: readonly Stage[]): Set<number> {
  const chain = new Set<number>();
  let current = stages[stages.length - 1];
  while (current && !chain.has(current.index)) {
    chain.add(current.index);
    const parentName = current.image.toLowerCase();
    current = stages.slice(0, current.index).reverse().find((s) => s.name === parentName);
  }
  return chain;
}

/** One shell command, normalised: `apt` is `apt-get`, assume-yes and quiet flags dropped. */
function normalizeCommand(command: string): string {
  return command
    .trim()
    .replace(/^apt(?=\s)/, "apt-get")
    .split(/\s+/)
    .filter((w) => !["-y", "--yes", "-q", "-qq", "--quiet", "--no-cache", "--no-install-recommends", "--no-cache-dir", "--disable-pip-version-check"].includes(w))
    .join(" ");
}

type CommandKind = { kind: "ok"; why: string } | { kind: "upgrade" } | { kind: "packages"; packages: string[]; manager: string } | { kind: "unknown" };

function classifyCommand(raw: string): CommandKind {
  const c = normalizeCommand(raw);
  if (/^(apt-get update|apk update)$/.test(c)) return { kind: "ok", why: "package index refresh" };
  if (/^(apt-get (upgrade|dist-upgrade|full-upgrade)|apk upgrade)$/.test(c)) return { kind: "upgrade" };
  if (/^rm -rf \/var\/lib\/apt\/lists\/\*( \/var\/cache\/apk\/\*)?$/.test(c) || /^(apt-get clean|apt-get autoremove)$/.test(c)) return { kind: "ok", why: "package cache cleanup" };
  const install = /^(apt-get install|apk add)((?: \S+)+)$/.exec(c);
  if (install) return { kind: "packages", manager: install[1] as string, packages: (install[2] as string).trim().split(" ").filter((p) => !p.startsWith("-")) };
  if (/^(python3? -m )?pip3? install (--upgrade|-U) pip$/.test(c)) return { kind: "ok", why: "pip comes pinned with the base image" };
  if (/^(python3? -m )?pip3? install( --no-build-isolation| --prefix=\S+| --user)* (\.|-r requirements\.txt|\.\[main\]|-e \.)$/.test(c)) {
    return { kind: "ok", why: "the common build installs the connector from its manifests" };
  }
  if (/^(poetry config virtualenvs\.create false|poetry install( --only main| --no-dev| --no-root| --no-interaction| --no-ansi)*|pip3? install poetry(==\S+)?)$/.test(c)) {
    return { kind: "ok", why: "the common build installs poetry projects with the base image's poetry" };
  }
  if (/^echo "?Etc\/UTC"? > \/etc\/timezone$/.test(c) || /^ln -s?f \/usr\/share\/zoneinfo\/(Etc\/)?UTC \/etc\/localtime$/.test(c)) {
    return { kind: "ok", why: "the base image sets the timezone to UTC" };
  }
  return { kind: "unknown" };
}

/** The `key=value` pairs of a LABEL instruction (keys may hold dots and dashes; values may be quoted). */
function parseLabels(args: string): Array<[string, string]> {
  return [...args.matchAll(/("[^"]*"|[^\s="]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => [unquote(m[1] as string), unquote(m[2] as string)]);
}

/** The shell commands of a RUN instruction (shell or exec form), split at `&&` and `;`. */
function runCommands(i: DockerfileInstruction): string[] {
  return i.args.replace(/^\[.*\]$/, (m) => (parseExecForm(m) ?? []).join(" ")).split(/\s*(?:&&|;)\s*/).filter((c) => c.trim() !== "");
}

/** Is a COPY source one of the files the common build copies itself? */
function commonBuildCopies(source: string, pkg: string): boolean {
  const n = source.replace(/^\.\//, "").replace(/\/$/, "");
  return ["setup.py", "requirements.txt", "pyproject.toml", "poetry.lock", "README.md", pkg, "$CODE_PATH", "${CODE_PATH}"].includes(n) || /^main\w*\.py$/.test(n);
}

/**
 * Classifies a Dockerfile against the common build, stage by stage: only the stages the final image
 * is built on count in full; a builder stage matters only through what the final stage copies from
 * it (`COPY --from=builder /install /usr/local` is the connector's dependencies, which the common
 * build installs directly). Refuses, with one line-level reason each, what the common build cannot express.
 */
export function planDockerfile(content: string, technicalName: string, target: MigrationTargetUser = {}): DockerfilePlan {
  const pkg = technicalName.replaceAll("-", "_");
  const { preamble, stages } = splitStages(parseDockerfileInstructions(content));
  const chain = finalChain(stages);
  const plan: DockerfilePlan = { mainFileName: "main.py", extraEnv: [], covered: [], refusals: [], expectedChanges: [] };
  const cover = (i: DockerfileInstruction, why: string) => plan.covered.push({ line: i.line, text: i.text, why });
  const refuse = (i: DockerfileInstruction, why: string) => plan.refusals.push(`line ${i.line} '${i.text}': ${why}`);
  const expect = (change: string) => {
    if (!plan.expectedChanges.includes(change)) plan.expectedChanges.push(change);
  };
  let mainFileName: string | undefined;
  let entrypointEnv: string | undefined;
  const users: DockerfileInstruction[] = [];
  for (const i of preamble) refuse(i, "build arguments have no equivalent in the common build");
  if (stages.length === 0) plan.refusals.push("no FROM instruction: not a Dockerfile the common build can replace");
  const stageNames = new Set(stages.map((s) => s.name).filter((n): n is string => n !== undefined));

  for (const stage of stages) {
    const inFinal = chain.has(stage.index);
    const label = stage.name ? `stage '${stage.name}'` : `stage ${stage.index + 1}`;
    if (stageNames.has(stage.image.toLowerCase()) && stages.slice(0, stage.index).some((s) => s.name === stage.image.toLowerCase())) {
      cover(stage.from, `starts from an earlier stage (${stage.image})`);
    } else if (isOfficialPython(stage.image)) {
      cover(stage.from, "the common build starts from the digest-pinned base image");
      if (inFinal) {
        expect("python, pip, system packages and their environment variables (PYTHON_VERSION, GPG_KEY…) come from the base image");
        if (/alpine/.test(stage.image)) expect(`moves from Alpine (${stage.image}, musl, apk) to the Debian base image: system packages differ`);
      }
    } else {
      refuse(stage.from, "a non-python base image cannot be expressed by the common build");
    }
    if (!inFinal) {
      // A builder stage: nothing of it reaches the final image but what COPY --from takes, and that
      // is taken as the connector's dependencies only when the builder installs nothing else.
      for (const i of stage.instructions) {
        // Package installs and upgrades there are build tools; any other command (an extra
        // `pip install x`) would put something into /install that the common build leaves out.
        const unknown = i.keyword === "RUN" ? runCommands(i).filter((c) => classifyCommand(c).kind === "unknown") : [];
        if (unknown.length > 0) refuse(i, `${label} runs ${unknown.map((c) => `'${c.trim()}'`).join(", ")}: its result reaches the image through COPY --from, and the common build installs only the connector's own dependencies (write a preConnectorInstall hook with withExec)`);
        else cover(i, `${label} is a builder stage: only what the final stage copies from it reaches the image`);
      }
      continue;
    }
    // ENV values set so far in this stage, for WORKDIR $WORKDIR.
    const stageEnv = new Map<string, string>();
    for (const i of stage.instructions) {
      switch (i.keyword) {
        case "WORKDIR":
          if (i.args === CONNECTOR_CODE_DIR) cover(i, `the common build works in ${CONNECTOR_CODE_DIR}`);
          else if (["$WORKDIR", "${WORKDIR}"].includes(i.args) && stageEnv.get("WORKDIR") === CONNECTOR_CODE_DIR) cover(i, `WORKDIR is ${CONNECTOR_CODE_DIR}, where the common build works`);
          else refuse(i, `workdir ${i.args}${VARIABLE_REFERENCE.test(i.args) ? ` (${stageEnv.has("WORKDIR") ? `$WORKDIR is ${stageEnv.get("WORKDIR")}` : "a variable this stage does not set"})` : ""} differs from ${CONNECTOR_CODE_DIR}`);
          break;
        case "COPY":
        case "ADD": {
          const parts = i.args.split(/\s+/);
          const from = parts.find((p) => p.startsWith("--from="))?.slice("--from=".length);
          const flags = parts.filter((p) => p.startsWith("--") && !p.startsWith("--from="));
          const operands = parts.filter((p) => !p.startsWith("--"));
          const sources = operands.slice(0, -1);
          const target = operands.at(-1) ?? "";
          const fromStage = from !== undefined && (stageNames.has(from.toLowerCase()) || /^\d+$/.test(from));
          if (flags.length > 0) {
            refuse(i, `${flags.join(" ")}: the common build copies files as they are, owned by root (express it in a hook with withExec)`);
          } else if (from !== undefined && !fromStage) {
            refuse(i, `copies ${sources.join(", ")} from the image ${from}, not from a stage of this Dockerfile: the common build does not take files from other images`);
          } else if (from !== undefined) {
            if (sources.length === 1 && sources[0] === "/install" && target === "/usr/local") {
              cover(i, "the dependencies the builder installed with pip --prefix: the common build installs them directly");
            } else if (sources.every((s) => /^\/usr\/share\/zoneinfo\/(Etc\/)?UTC$/.test(s)) && target === "/etc/localtime") {
              cover(i, "the base image sets the timezone to UTC");
            } else {
              refuse(i, `copies ${sources.join(", ")} from stage ${from}, which the common build does not produce (build it in a preConnectorInstall hook)`);
            }
          } else if (i.keyword === "ADD" && sources.some((s) => /^https?:/.test(s))) {
            refuse(i, "downloads a file at build time, which the common build does not do (fetch it in a hook with withExec)");
          } else if (sources.every((s) => commonBuildCopies(s, pkg))) {
            cover(i, "the common build copies the manifests, the package and the main file");
          } else {
            refuse(i, `copies ${sources.join(", ")}, which the common build does not copy (express it in a hook with withFile/withDirectory)`);
          }
          break;
        }
        case "RUN": {
          const commands = runCommands(i);
          const bad: string[] = [];
          for (const command of commands) {
            const kind = classifyCommand(command);
            if (kind.kind === "upgrade") {
              expect("system package upgrades: the base image's packages are pinned by its root image digest and release");
            } else if (kind.kind === "packages") {
              const extra = kind.packages.filter((p) => !BASE_IMAGE_PACKAGES.has(p));
              if (extra.length > 0) bad.push(`'${command.trim()}' (installs ${extra.join(", ")}, which the base image does not have: add a preConnectorInstall hook with withExec(["apt-get", "install", "-y", ...]) using Debian package names)`);
            } else if (kind.kind === "unknown") {
              bad.push(`'${command.trim()}'`);
            }
          }
          if (bad.length === 0) cover(i, "package installs of what the base image has, upgrades, timezone and the connector install are handled by the base image and the common build");
          else refuse(i, `runs ${bad.join(", ")}, which the common build does not do (write a preConnectorInstall hook with withExec)`);
          break;
        }
        case "ENV": {
          const refs = parseEnvArgs(i.args).filter(([, value]) => VARIABLE_REFERENCE.test(value));
          if (refs.length > 0) {
            refuse(i, `${refs.map(([name, value]) => `${name}=${value}`).join(", ")} refers to a variable, which the Dockerfile expands and a hook's withEnvVariable writes literally (set the expanded value in a hook)`);
            break;
          }
          for (const [name, value] of parseEnvArgs(i.args)) {
            stageEnv.set(name, unquote(value));
            if (name === "AIRBYTE_ENTRYPOINT") entrypointEnv = value;
            else if (DOCKERFILE_ONLY_ENV.has(name)) expect(`env ${name} is dropped: it only served the Dockerfile`);
            else plan.extraEnv.push([name, value]);
          }
          cover(i, "set by the common build, moved to a postConnectorInstall hook, or only used by the Dockerfile");
          break;
        }
        case "ENTRYPOINT": {
          const argv = parseExecForm(i.args);
          const m = argv && argv.length === 2 && argv[0] === "python" ? new RegExp(`^${CONNECTOR_CODE_DIR}/([\\w.-]+\\.py)$`).exec(argv[1] as string) : null;
          if (m) {
            mainFileName = m[1] as string;
            cover(i, "the common build sets ENTRYPOINT [python, <main file>]");
          } else refuse(i, `entrypoint ${i.args} is not ["python", "${CONNECTOR_CODE_DIR}/<main file>.py"]`);
          break;
        }
        case "LABEL": {
          // Every label of the instruction counts (LABEL a=1 b=2), not only the first.
          const labels = parseLabels(i.args);
          const others = labels.filter(([name]) => !/^io\.airbyte\.(version|name)$/.test(name));
          if (others.length === 0 && labels.length > 0) cover(i, "the common build sets io.airbyte.version and io.airbyte.name from metadata.yaml");
          else refuse(i, `label ${others.map(([name, value]) => `${name}=${value}`).join(" ") || i.args} is not set by the common build (add it in a postConnectorInstall hook)`);
          break;
        }
        case "ARG":
          refuse(i, "build arguments have no equivalent in the common build");
          break;
        case "USER":
          users.push(i);
          break;
        default:
          refuse(i, `${i.keyword} is not expressed by the common build`);
      }
    }
  }
  planUsers(users, target, { cover, refuse, expect });
  plan.mainFileName = mainFileName ?? "main.py";
  if (entrypointEnv !== undefined && unquote(entrypointEnv) !== `python ${CONNECTOR_CODE_DIR}/${plan.mainFileName}`) {
    plan.refusals.push(`AIRBYTE_ENTRYPOINT '${entrypointEnv}' does not match the entrypoint (python ${CONNECTOR_CODE_DIR}/${plan.mainFileName})`);
  }
  return plan;
}

/** The base image a migration targets, as far as USER instructions care: who it runs connectors as. */
export interface MigrationTargetUser {
  /** The target base's runtime user (its recipe's last withUser). Default: root. */
  runtimeUser?: string;
  /** The target base version, for messages. */
  baseVersion?: string;
}

const userName = (user: string): string => unquote(user.trim()).split(":")[0] ?? "";
const isRoot = (user: string): boolean => ["root", "0", ""].includes(userName(user));

/**
 * USER instructions of the final image's stages. The common build runs every install step as root
 * and the image as the base's user, so: a USER root before install steps is what the common build
 * does anyway; the last USER must be the base's user (a Dockerfile ending `USER airbyte` needs a base
 * that runs as airbyte, 2.0.0); any other USER is refused with its line. No USER on a non-root base
 * is an expected change: the connector runs as the base's user instead of root.
 */
function planUsers(
  users: readonly DockerfileInstruction[],
  target: MigrationTargetUser,
  plan: { cover: (i: DockerfileInstruction, why: string) => void; refuse: (i: DockerfileInstruction, why: string) => void; expect: (change: string) => void },
): void {
  const runtime = target.runtimeUser ?? "root";
  const base = target.baseVersion ? `base image ${target.baseVersion}` : "the target base image";
  const last = users.at(-1);
  for (const i of users) {
    if (i === last) continue;
    if (isRoot(i.args)) plan.cover(i, "the common build runs install steps as root");
    else plan.refuse(i, `runs the following steps as ${userName(i.args)}: the common build runs install steps as root (switch user in a hook with withUser)`);
  }
  if (last) {
    const same = isRoot(runtime) ? isRoot(last.args) : userName(last.args) === runtime;
    if (same) plan.cover(last, `${base} runs connectors as ${runtime}`);
    else plan.refuse(last, `the image runs as ${userName(last.args)}, but ${base} runs connectors as ${runtime}: migrate onto a base whose user is ${userName(last.args)}${isRoot(last.args) ? " (1.x)" : ""}, or drop the instruction`);
  } else if (!isRoot(runtime)) {
    plan.expect(`the connector runs as ${runtime} instead of root: ${base}'s user (files it writes must be under /tmp or its home)`);
  }
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
