import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a generated tree should analyse to (default criteria: python/low-code, certified). */
export interface TreeExpectation {
  readonly connectors: number;
  readonly selected: number;
  /** Selected connectors with a Dockerfile, by template. */
  readonly byTemplate: Readonly<Record<string, number>>;
  readonly withoutDockerfile: number;
  readonly files: number;
}

type Template = (name: string, pkg: string, version: string) => string;

// The seed's three variants, and two more with other base images (the seed found four).
const TEMPLATES: Record<string, Template> = {
  "seed-1": (name, pkg, version) =>
    `FROM python:3.9-slim\n\n# Bash is installed for more convenient debugging.\nRUN apt-get update && apt-get install -y bash && rm -rf /var/lib/apt/lists/*\n\nWORKDIR /airbyte/integration_code\nCOPY ${pkg} ./${pkg}\nCOPY main.py ./\nCOPY setup.py ./\nRUN pip install .\n\nENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\n\nLABEL io.airbyte.version=${version}\nLABEL io.airbyte.name=airbyte/${name}\n`,
  "seed-2": (name, pkg, version) =>
    `FROM python:3.9.11-alpine3.15 as base\n\n# build and load all requirements\nFROM base as builder\nWORKDIR /airbyte/integration_code\n\n# upgrade pip to the latest version\nRUN apk --no-cache upgrade \\\n    && pip install --upgrade pip \\\n    && apk --no-cache add tzdata build-base\n\n\nCOPY setup.py ./\n# install necessary packages to a temporary folder\nRUN pip install --prefix=/install .\n\n# build a clean environment\nFROM base\nWORKDIR /airbyte/integration_code\n\n# copy all loaded and built libraries to a pure basic image\nCOPY --from=builder /install /usr/local\n# add default timezone settings\nCOPY --from=builder /usr/share/zoneinfo/Etc/UTC /etc/localtime\nRUN echo "Etc/UTC" > /etc/timezone\n\n# bash is installed for more convenient debugging.\nRUN apk --no-cache add bash\n\n# copy payload code only\nCOPY main.py ./\nCOPY ${pkg} ./${pkg}\n\nENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\n\nLABEL io.airbyte.version=${version}\nLABEL io.airbyte.name=airbyte/${name}\n`,
  "seed-3": (name, pkg, version) =>
    `FROM python:3.9-slim\n\n# Bash is installed for more convenient debugging.\nRUN apt-get update && apt-get install -y bash && rm -rf /var/lib/apt/lists/*\n\nWORKDIR /airbyte/integration_code\nCOPY setup.py ./\nRUN pip install .\nCOPY ${pkg} ./${pkg}\nCOPY main.py ./\n\nENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\n\nLABEL io.airbyte.version=${version}\nLABEL io.airbyte.name=airbyte/${name}\n`,
  "slim-pinned": (name, pkg, version) =>
    `FROM python:3.9.11-slim\nWORKDIR /airbyte/integration_code\nCOPY setup.py ./\nRUN pip install .\nCOPY ${pkg} ./${pkg}\nCOPY main.py ./\nENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\nLABEL io.airbyte.version=${version}\nLABEL io.airbyte.name=airbyte/${name}\n`,
  "alpine-318": (name, pkg, version) =>
    `FROM python:3.9.16-alpine3.18 as base\nFROM base as builder\nWORKDIR /airbyte/integration_code\nRUN apk --no-cache upgrade && pip install --upgrade pip && apk --no-cache add tzdata build-base\nCOPY setup.py ./\nRUN pip install --prefix=/install .\nFROM base\nWORKDIR /airbyte/integration_code\nCOPY --from=builder /install /usr/local\nCOPY --from=builder /usr/share/zoneinfo/Etc/UTC /etc/localtime\nRUN echo "Etc/UTC" > /etc/timezone\nRUN apk --no-cache add bash\nCOPY main.py ./\nCOPY ${pkg} ./${pkg}\nENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"\nENTRYPOINT ["python", "/airbyte/integration_code/main.py"]\nLABEL io.airbyte.version=${version}\nLABEL io.airbyte.name=airbyte/${name}\n`,
};
const TEMPLATE_ORDER = ["seed-1", "seed-1", "seed-3", "seed-1", "seed-2", "seed-3", "slim-pinned", "seed-1", "alpine-318", "seed-3", "seed-2"] as const;

/**
 * Writes `count` connectors under `<root>/airbyte-integrations/connectors`, as an Airbyte checkout
 * holds them: metadata.yaml (language in `data.language`, in a `language:` tag only, or absent and
 * detected from files; support levels certified/community/archived), Dockerfiles of five variants
 * (some with extra comments and blank lines the normalisation removes), some without Dockerfile,
 * and the usual Python files. Returns what the analysis should find.
 */
export function writeAnalyzeTree(root: string, count: number): TreeExpectation {
  const base = join(root, "airbyte-integrations", "connectors");
  mkdirSync(base, { recursive: true });
  let selected = 0;
  let withoutDockerfile = 0;
  let files = 0;
  const byTemplate: Record<string, number> = {};
  const write = (path: string, content: string) => {
    writeFileSync(path, content);
    files++;
  };
  for (let i = 0; i < count; i++) {
    const kind = i % 10 === 9 ? "destination" : "source";
    const name = `${kind}-gen-${String(i).padStart(5, "0")}`;
    const pkg = name.replaceAll("-", "_");
    const dir = join(base, name);
    mkdirSync(join(dir, pkg), { recursive: true });
    mkdirSync(join(dir, "unit_tests"), { recursive: true });
    const slot = i % 20;
    const language = slot < 10 ? "python" : slot < 15 ? "low-code" : slot < 18 ? "java" : slot === 18 ? "manifest-only" : "python-detected";
    const supportLevel = ["certified", "community", "archived"][i % 3] as string;
    const version = `${i % 4}.${i % 13}.${i % 7}`;
    const languageLines =
      language === "python-detected"
        ? []
        : i % 2 === 0
          ? [`  language: ${language}`, "  tags:", `    - language:${language}`]
          : ["  tags:", `    - language:${language}`, "    - cdk:python"];
    write(
      join(dir, "metadata.yaml"),
      [
        "data:",
        `  connectorType: ${kind}`,
        `  definitionId: ${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`,
        `  dockerRepository: airbyte/${name}`,
        `  dockerImageTag: ${version}`,
        `  supportLevel: ${supportLevel}`,
        ...languageLines,
        `  name: Generated ${i}`,
        "  releaseStage: generally_available",
        "  registries:",
        "    cloud:",
        "      enabled: true",
        "    oss:",
        "      enabled: true",
        'metadataSpecVersion: "1.0"',
        "",
      ].join("\n"),
    );
    const effectiveLanguage = language === "python-detected" ? "python" : language;
    let template: string | undefined;
    if (effectiveLanguage === "python" || effectiveLanguage === "low-code") {
      write(join(dir, "setup.py"), `from setuptools import find_packages, setup\n\nsetup(name="${pkg}", packages=find_packages(), install_requires=["airbyte-cdk"])\n`);
      write(join(dir, "main.py"), `import sys\n\nfrom ${pkg} import run\n\nif __name__ == "__main__":\n    run(sys.argv[1:])\n`);
      write(join(dir, pkg, "__init__.py"), "from .source import run\n");
      write(join(dir, pkg, "source.py"), `def run(argv):\n    print(${JSON.stringify(name)}, argv)\n`);
      write(join(dir, "unit_tests", "test_source.py"), "def test_nothing():\n    assert True\n");
      if (effectiveLanguage === "low-code") write(join(dir, pkg, "manifest.yaml"), `version: 0.50.0\ntype: DeclarativeSource\n`);
      if (i % 13 !== 5) template = TEMPLATE_ORDER[i % TEMPLATE_ORDER.length];
    } else if (effectiveLanguage === "java") {
      write(join(dir, "build.gradle"), "plugins { id 'airbyte-java-connector' }\n");
    } else {
      write(join(dir, "manifest.yaml"), "version: 0.79.0\ntype: DeclarativeSource\n");
    }
    if (template) {
      let dockerfile = (TEMPLATES[template] as Template)(name, pkg, version);
      if (i % 7 === 3) dockerfile = `# Copyright (c) 2023 Airbyte, Inc., all rights reserved.\n\n${dockerfile.replace("WORKDIR", "\n\nWORKDIR")}`;
      write(join(dir, "Dockerfile"), dockerfile);
    }
    if (effectiveLanguage === "python" || effectiveLanguage === "low-code") {
      if (supportLevel === "certified") {
        selected++;
        if (template) byTemplate[template] = (byTemplate[template] ?? 0) + 1;
        else withoutDockerfile++;
      }
    }
  }
  return { connectors: count, selected, byTemplate, withoutDockerfile, files };
}
