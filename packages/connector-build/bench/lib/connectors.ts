import { appendFileSync, cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setBaseImageInYaml } from "@airbyte-ci/connector-build";

/** The technical name of the synthetic connector (folder name). */
export const SYNTHETIC_CONNECTOR = "source-synthetic";
export const SYNTHETIC_PACKAGE_DIR = "source_synthetic";
export const SYNTHETIC_REPOSITORY = "airbyte-bench/source-synthetic";
export const SYNTHETIC_VERSION_TAG = "0.1.0";
function setupPy(distribution: string, requirements: readonly string[]): string {
  return [
    "from setuptools import find_packages, setup",
    "",
    "MAIN_REQUIREMENTS = [",
    ...requirements.map((r) => `    ${JSON.stringify(r)},`),
    "]",
    "",
    "setup(",
    `    name=${JSON.stringify(distribution)},`,
    '    description="Synthetic connector of the build benchmark.",',
    '    author="Airbyte",',
    "    packages=find_packages(),",
    "    install_requires=MAIN_REQUIREMENTS,",
    '    package_data={"": ["*.json"]},',
    ")",
    "",
  ].join("\n");
}

function metadataYaml(technicalName: string, repository: string, tag: string, baseImage: string): string {
  const yaml = [
    "data:",
    "  connectorType: source",
    "  definitionId: 00000000-0000-4000-8000-000000000000",
    `  dockerRepository: ${repository}`,
    `  dockerImageTag: ${tag}`,
    "  language: python",
    "  supportLevel: certified",
    "  tags:",
    "    - language:python",
    "  connectorBuildOptions:",
    "    baseImage: placeholder/base:0.0.0",
    `  name: ${technicalName}`,
    "  releaseStage: alpha",
    'metadataSpecVersion: "1.0"',
    "",
  ].join("\n");
  return setBaseImageInYaml(yaml, baseImage, `${technicalName}/metadata.yaml`);
}

const SYNTHETIC_SOURCE = `"""A source whose spec proves every declared dependency is installed and importable."""

import importlib
import importlib.metadata
import json
import re
import sys

DISTRIBUTION = "source_synthetic"


def dependency_modules():
    requires = importlib.metadata.requires(DISTRIBUTION) or []
    return [re.split(r"[<>=!~ ;\\[(]", r, maxsplit=1)[0].strip().replace("-", "_") for r in requires]


def spec():
    modules = dependency_modules()
    for name in modules:
        importlib.import_module(name)
    return {
        "type": "SPEC",
        "spec": {
            "documentationUrl": "https://docs.airbyte.com/integrations/sources/synthetic",
            "connectionSpecification": {"type": "object", "properties": {}, "x-dependencies": len(modules)},
        },
    }


def run(argv):
    if not argv or argv[0] != "spec":
        sys.stderr.write("usage: main.py spec\\n")
        return 2
    sys.stdout.write(json.dumps(spec()) + "\\n")
    return 0
`;

/**
 * Writes the synthetic connector: setup.py requiring the generated packages, main.py, the package,
 * metadata.yaml on the local base image. No hook: the package index is a build-wide option
 * (`pipIndex`, the CLI's --pip-index-url), passed to pip as build secrets.
 */
export function writeSyntheticConnector(parent: string, options: { baseImage: string; requirements: readonly string[] }): string {
  const dir = join(parent, SYNTHETIC_CONNECTOR);
  mkdirSync(join(dir, SYNTHETIC_PACKAGE_DIR), { recursive: true });
  writeFileSync(join(dir, "setup.py"), setupPy(SYNTHETIC_PACKAGE_DIR, options.requirements));
  writeFileSync(join(dir, "main.py"), `import sys\n\nfrom ${SYNTHETIC_PACKAGE_DIR}.source import run\n\nif __name__ == "__main__":\n    sys.exit(run(sys.argv[1:]))\n`);
  writeFileSync(join(dir, SYNTHETIC_PACKAGE_DIR, "__init__.py"), "");
  writeFileSync(join(dir, SYNTHETIC_PACKAGE_DIR, "source.py"), SYNTHETIC_SOURCE);
  writeFileSync(join(dir, "metadata.yaml"), metadataYaml(SYNTHETIC_CONNECTOR, SYNTHETIC_REPOSITORY, SYNTHETIC_VERSION_TAG, options.baseImage));
  return dir;
}

/** A code-only change: one line appended to a module of the package directory. */
export function applyCodeChange(dir: string, packageDir: string, mark: string): void {
  appendFileSync(join(dir, packageDir, "source.py"), `\nBUILD_MARK = ${JSON.stringify(mark)}\n`);
}

/** A dependency change: setup.py gets one more requirement. */
export function applyDependencyChange(dir: string, requirements: readonly string[]): void {
  writeFileSync(join(dir, "setup.py"), setupPy(SYNTHETIC_PACKAGE_DIR, requirements));
}

/**
 * A fleet connector: a copy of examples/source-hello renamed to `name` (package dir `name` with
 * `-` → `_`, its imports, setup.py, metadata dockerRepository and tag).
 */
export function writeFleetConnector(parent: string, exampleDir: string, name: string, baseImage: string): string {
  const dir = join(parent, name);
  const packageDir = name.replaceAll("-", "_");
  cpSync(exampleDir, dir, { recursive: true });
  renameSync(join(dir, "source_hello"), join(dir, packageDir));
  const rewrite = (path: string, fn: (s: string) => string) => writeFileSync(path, fn(readFileSync(path, "utf8")));
  rewrite(join(dir, "main.py"), (s) => s.replaceAll("source_hello", packageDir));
  rewrite(join(dir, "setup.py"), (s) => s.replaceAll("source_hello", packageDir));
  rewrite(join(dir, "metadata.yaml"), (s) =>
    setBaseImageInYaml(s, baseImage, `${name}/metadata.yaml`)
      .replace(/dockerRepository: .*/, `dockerRepository: airbyte-bench/${name}`)
      .replace(/dockerImageTag: .*/, "dockerImageTag: 0.1.0"),
  );
  return dir;
}

/** A fleet connector that depends on `requirement` (e.g. airbyte-cdk==3.9.6): source-hello's copy with it in setup.py. */
export function writeDependentFleetConnector(parent: string, exampleDir: string, name: string, baseImage: string, requirement: string): string {
  const dir = writeFleetConnector(parent, exampleDir, name, baseImage);
  const setup = join(dir, "setup.py");
  writeFileSync(setup, readFileSync(setup, "utf8").replace("MAIN_REQUIREMENTS = []", `MAIN_REQUIREMENTS = [${JSON.stringify(requirement)}]`));
  return dir;
}

/**
 * A poetry fleet connector: a copy of examples/source-tickets (pyproject.toml + poetry.lock with
 * airbyte-cdk) renamed to `name` (project name, package dir `name` with `-` → `_` and its imports,
 * dockerRepository, tag 0.1.0). The lock is unchanged: it locks the dependencies, not the project.
 */
export function writePoetryFleetConnector(parent: string, exampleDir: string, name: string, baseImage: string): string {
  const dir = join(parent, name);
  const packageDir = name.replaceAll("-", "_");
  cpSync(exampleDir, dir, { recursive: true });
  renameSync(join(dir, "source_tickets"), join(dir, packageDir));
  const rewrite = (path: string, fn: (s: string) => string) => writeFileSync(path, fn(readFileSync(path, "utf8")));
  rewrite(join(dir, "main.py"), (s) => s.replaceAll("source_tickets", packageDir));
  rewrite(join(dir, "pyproject.toml"), (s) => s.replace(/^name = ".*"$/m, `name = "${name}"`).replaceAll("source_tickets", packageDir));
  rewrite(join(dir, "metadata.yaml"), (s) =>
    setBaseImageInYaml(s, baseImage, `${name}/metadata.yaml`)
      .replace(/dockerRepository: .*/, `dockerRepository: airbyte-bench/${name}`)
      .replace(/dockerImageTag: .*/, "dockerImageTag: 0.1.0"),
  );
  return dir;
}
