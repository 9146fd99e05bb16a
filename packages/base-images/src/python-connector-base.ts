import type { BaseImageVersionData } from "./catalog.ts";
import { ImageRecipe } from "./recipe.ts";
import type { SanityCheck } from "./sanity-check.ts";
import type { Platform } from "./platform.ts";
import { runtimeUserChecks, withRuntimeUser, type RuntimeUser } from "./runtime-user.ts";

/** Facts about a root image that the recipe and its checks depend on. */
export interface PythonRootFacts {
  /** Exact Python version of the root image, e.g. 3.9.18. */
  pythonVersion: string;
  /** The pip version the base image pins. */
  pipVersion: string;
  /**
   * Environment the root image declares and the base image must keep: a value to require it
   * exactly, `null` to require only that it is set (values that differ per build).
   */
  env: Record<string, string | null>;
}

/**
 * Poetry as a base image installs it: pinned, from PyPI, with the export plugin the common build
 * uses to turn poetry.lock into a hash-pinned pip install.
 */
export interface PoetryPins {
  /** Poetry's version, e.g. 2.2.1 (the last minor that runs on Python 3.9 as well as 3.11). */
  poetryVersion: string;
  /** poetry-plugin-export's version, e.g. 1.9.0 (`poetry export`, not bundled with Poetry 2). */
  exportPluginVersion: string;
}

/**
 * Where Poetry lives: its own virtual environment under POETRY_HOME, so Poetry's dependencies
 * (requests, packaging, keyring, …) never meet a connector's in the system interpreter. With
 * POETRY_HOME set and the venv below it, Poetry takes the interpreter its venv was made from as the
 * project environment (as with the official installer), so `poetry install` with
 * virtualenvs.create=false installs into the system Python.
 */
export const POETRY_HOME = "/opt/poetry";
/** The virtual environment Poetry runs from. */
export const POETRY_VENV = `${POETRY_HOME}/venv`;

/** The Poetry of base image 1.1.0: 2.2.1 is the last Poetry that runs on Python 3.9 (production) as well as 3.11 (fixture). */
export const POETRY_PINS_1_1_0: PoetryPins = { poetryVersion: "2.2.1", exportPluginVersion: "1.9.0" };

/** The changelog entry of 1.1.0, shared by the production and the fixture catalog. */
export const CHANGELOG_1_1_0 =
  `Poetry ${POETRY_PINS_1_1_0.poetryVersion} with poetry-plugin-export ${POETRY_PINS_1_1_0.exportPluginVersion}, installed from PyPI in its own virtual environment ` +
  "(/opt/poetry/venv, /usr/local/bin/poetry; POETRY_HOME=/opt/poetry, POETRY_VIRTUALENVS_CREATE=false), so a pyproject.toml + poetry.lock connector builds with no hook; " +
  "pip still pinned; sanity checks for the Poetry, export plugin and pip versions and for Poetry staying out of the system Python.";

/** The changelog entry of 2.0.0, shared by the production and the fixture catalog. */
export const CHANGELOG_2_0_0 =
  "Connectors run as a non-root user: a system user and group airbyte (uid/gid 1000) with the home directory /home/airbyte (HOME set to it), " +
  "/tmp writable by everyone, /airbyte/integration_code readable, and USER airbyte last; 1.1.0's Poetry and pinned pip kept. " +
  "The common build installs as root and ends as airbyte. Sanity checks for the user, uid, gid, home, temp directory and that Python imports its packages as airbyte. " +
  "Major version: a connector that writes outside /tmp and its home, or needs root at run time, must change.";

/** Title label of the Python connector base image. */
export const PYTHON_CONNECTOR_BASE_TITLE = "airbyte/python-connector-base";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The recipe of the Python connector base image, applied on top of its root image: timezone set
 * to UTC (the seed found only one variant doing it), pip pinned (rebuilds must not move it), Poetry
 * pinned in its own virtual environment when `poetry` is given (from 1.1.0), labels, and the
 * non-root runtime user last when `runtimeUser` is given (from 2.0.0).
 */
export function pythonConnectorBaseRecipe(options: { version: string; pipVersion: string; poetry?: PoetryPins; runtimeUser?: RuntimeUser }): ImageRecipe {
  const { poetry, runtimeUser } = options;
  return ImageRecipe.empty()
    .withExec(["ln", "-snf", "/usr/share/zoneinfo/Etc/UTC", "/etc/localtime"])
    .withExec(["sh", "-c", "echo Etc/UTC > /etc/timezone"])
    .withMountedCache("/root/.cache/pip", "pip-cache")
    .withExec(["python", "-m", "pip", "install", "--disable-pip-version-check", `pip==${options.pipVersion}`])
    .with((r) =>
      poetry === undefined
        ? r
        : r
            .withEnvVariable("POETRY_HOME", POETRY_HOME)
            .withEnvVariable("POETRY_VIRTUALENVS_CREATE", "false")
            .withEnvVariable("POETRY_NO_INTERACTION", "1")
            .withExec(["python", "-m", "venv", POETRY_VENV])
            .withExec([
              `${POETRY_VENV}/bin/python`,
              "-m",
              "pip",
              "install",
              "--disable-pip-version-check",
              `poetry==${poetry.poetryVersion}`,
              `poetry-plugin-export==${poetry.exportPluginVersion}`,
            ])
            .withExec(["ln", "-sf", `${POETRY_VENV}/bin/poetry`, "/usr/local/bin/poetry"]),
    )
    .withoutMount("/root/.cache/pip")
    .withLabel("org.opencontainers.image.title", PYTHON_CONNECTOR_BASE_TITLE)
    .withLabel("org.opencontainers.image.version", options.version)
    .withLabel("io.airbyte.base-image.version", options.version)
    .with((r) => (runtimeUser === undefined ? r : withRuntimeUser(r, runtimeUser).withUser(runtimeUser.name)));
}

/** The sanity checks of the Python connector base image, from the seed's findings (Poetry's from 1.1.0, the runtime user's from 2.0.0). */
export function pythonConnectorBaseChecks(options: { version: string; poetry?: PoetryPins; runtimeUser?: RuntimeUser } & PythonRootFacts): SanityCheck[] {
  const checks: SanityCheck[] = [
    { kind: "command", name: "timezone is UTC", argv: ["date", "+%Z"], expect: { stdout: "UTC" } },
    { kind: "command", name: "/etc/timezone is Etc/UTC", argv: ["cat", "/etc/timezone"], expect: { stdout: "Etc/UTC" } },
    {
      kind: "command",
      name: `python is ${options.pythonVersion}`,
      argv: ["python", "--version"],
      expect: { stdout: `Python ${options.pythonVersion}` },
    },
    {
      kind: "command",
      name: `pip is ${options.pipVersion}`,
      argv: ["python", "-m", "pip", "--version"],
      expect: { stdoutMatches: `^pip ${escapeRegExp(options.pipVersion)} ` },
    },
    { kind: "command", name: "bash is available", argv: ["bash", "-c", "echo $BASH_VERSION"], expect: { stdoutMatches: "^[0-9]+\\.[0-9]+" } },
  ];
  if (options.poetry) checks.push(...poetryChecks(options.poetry));
  if (options.runtimeUser) checks.push(...runtimeUserChecks(options.runtimeUser));
  // A non-root base sets HOME to its user's home over the root image's HOME=/root.
  const env = options.runtimeUser ? { ...options.env, HOME: options.runtimeUser.home } : options.env;
  for (const [variable, value] of Object.entries(env)) {
    checks.push({
      kind: "env",
      name: value === null ? `${variable} is set` : `${variable} is ${value}`,
      variable,
      ...(value === null ? {} : { value }),
    });
  }
  checks.push(
    { kind: "label", name: "title label", label: "org.opencontainers.image.title", value: PYTHON_CONNECTOR_BASE_TITLE },
    { kind: "label", name: "version label", label: "org.opencontainers.image.version", value: options.version },
  );
  return checks;
}

/** Poetry's checks: its version, the export plugin's, where it runs from, and that it stays out of the system Python. */
function poetryChecks(poetry: PoetryPins): SanityCheck[] {
  return [
    {
      kind: "command",
      name: `poetry is ${poetry.poetryVersion}`,
      argv: ["poetry", "--version"],
      expect: { stdoutMatches: `^Poetry \\(version ${escapeRegExp(poetry.poetryVersion)}\\)$` },
    },
    {
      kind: "command",
      name: `poetry-plugin-export is ${poetry.exportPluginVersion}`,
      argv: [`${POETRY_VENV}/bin/python`, "-c", "from importlib.metadata import version; print(version('poetry-plugin-export'))"],
      expect: { stdout: poetry.exportPluginVersion },
    },
    {
      kind: "command",
      name: "poetry export is available",
      argv: ["poetry", "export", "--help"],
      expect: { exitCode: 0 },
    },
    {
      kind: "command",
      name: "poetry is not importable from the system Python",
      argv: ["python", "-c", "import importlib.util; print(importlib.util.find_spec('poetry') is None)"],
      expect: { stdout: "True" },
    },
    { kind: "env", name: `POETRY_HOME is ${POETRY_HOME}`, variable: "POETRY_HOME", value: POETRY_HOME },
    { kind: "env", name: "POETRY_VIRTUALENVS_CREATE is false", variable: "POETRY_VIRTUALENVS_CREATE", value: "false" },
  ];
}

/** A catalog entry for a Python connector base version (unpublished until a release publishes it). */
export function pythonConnectorBaseVersion(options: {
  version: string;
  changelog: string;
  rootImages: Partial<Record<Platform, string>>;
  facts: PythonRootFacts;
  /** Poetry to install (from 1.1.0). Default: none. */
  poetry?: PoetryPins;
  /** The non-root user the image runs as (from 2.0.0). Default: none (root). */
  runtimeUser?: RuntimeUser;
}): BaseImageVersionData {
  const extras = { ...(options.poetry ? { poetry: options.poetry } : {}), ...(options.runtimeUser ? { runtimeUser: options.runtimeUser } : {}) };
  return {
    version: options.version,
    changelog: options.changelog,
    rootImages: { ...options.rootImages } as Record<string, string>,
    recipe: pythonConnectorBaseRecipe({ version: options.version, pipVersion: options.facts.pipVersion, ...extras }).toJSON(),
    sanityChecks: pythonConnectorBaseChecks({ version: options.version, ...options.facts, ...extras }),
  };
}
