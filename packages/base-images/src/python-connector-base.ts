import type { BaseImageVersionData } from "./catalog.ts";
import { ImageRecipe } from "./recipe.ts";
import type { SanityCheck } from "./sanity-check.ts";
import type { Platform } from "./platform.ts";

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

/** Title label of the Python connector base image. */
export const PYTHON_CONNECTOR_BASE_TITLE = "airbyte/python-connector-base";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The recipe of the Python connector base image, applied on top of its root image: timezone set
 * to UTC (the seed found only one variant doing it), pip pinned (rebuilds must not move it), labels.
 */
export function pythonConnectorBaseRecipe(options: { version: string; pipVersion: string }): ImageRecipe {
  return ImageRecipe.empty()
    .withExec(["ln", "-snf", "/usr/share/zoneinfo/Etc/UTC", "/etc/localtime"])
    .withExec(["sh", "-c", "echo Etc/UTC > /etc/timezone"])
    .withMountedCache("/root/.cache/pip", "pip-cache")
    .withExec(["python", "-m", "pip", "install", "--disable-pip-version-check", `pip==${options.pipVersion}`])
    .withoutMount("/root/.cache/pip")
    .withLabel("org.opencontainers.image.title", PYTHON_CONNECTOR_BASE_TITLE)
    .withLabel("org.opencontainers.image.version", options.version)
    .withLabel("io.airbyte.base-image.version", options.version);
}

/** The sanity checks of the Python connector base image, from the seed's findings. */
export function pythonConnectorBaseChecks(options: { version: string } & PythonRootFacts): SanityCheck[] {
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
  for (const [variable, value] of Object.entries(options.env)) {
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

/** A catalog entry for a Python connector base version (unpublished until a release publishes it). */
export function pythonConnectorBaseVersion(options: {
  version: string;
  changelog: string;
  rootImages: Partial<Record<Platform, string>>;
  facts: PythonRootFacts;
}): BaseImageVersionData {
  return {
    version: options.version,
    changelog: options.changelog,
    rootImages: { ...options.rootImages } as Record<string, string>,
    recipe: pythonConnectorBaseRecipe({ version: options.version, pipVersion: options.facts.pipVersion }).toJSON(),
    sanityChecks: pythonConnectorBaseChecks({ version: options.version, ...options.facts }),
  };
}
