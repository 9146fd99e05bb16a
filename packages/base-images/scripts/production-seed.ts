import type { BaseImageVersionData } from "../src/catalog.ts";
import { CHANGELOG_1_1_0, CHANGELOG_2_0_0, POETRY_PINS_1_1_0, pythonConnectorBaseVersion, type PythonRootFacts } from "../src/python-connector-base.ts";
import { AIRBYTE_RUNTIME_USER } from "../src/runtime-user.ts";

/** The seed's digests of python:3.9.18-bookworm, per platform. */
export const SEED_ROOT_IMAGES = {
  "linux/amd64": "docker.io/library/python:3.9.18-bookworm@sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58",
  "linux/arm64": "docker.io/library/python:3.9.18-bookworm@sha256:0d132e30eb9325d53c790738e5478e9abffc98b69115e7de429d7c6fc52dddac",
} as const;

/** What the production root image python:3.9.18-bookworm is, and the pip the production versions pin. */
const PRODUCTION_FACTS: PythonRootFacts = {
  pythonVersion: "3.9.18",
  pipVersion: "23.2.1",
  env: {
    LANG: "C.UTF-8",
    GPG_KEY: "E3FF2839C048B25C084DEBE9B26995E310250568",
    PATH: "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/root",
    PYTHON_VERSION: "3.9.18",
    PYTHON_PIP_VERSION: "23.0.1",
    PYTHON_SETUPTOOLS_VERSION: "58.1.0",
    PYTHON_GET_PIP_URL: null,
    PYTHON_GET_PIP_SHA256: null,
  },
};

/** Version 1.0.0 as the seed proposed it; the committed production catalog must equal this. */
export function productionSeedVersion(): BaseImageVersionData {
  return pythonConnectorBaseVersion({
    version: "1.0.0",
    changelog:
      "Initial release: python:3.9.18-bookworm pinned by digest per platform, timezone set to UTC, pip pinned to 23.2.1, the official image's environment checked.",
    rootImages: SEED_ROOT_IMAGES,
    facts: PRODUCTION_FACTS,
  });
}

/**
 * Version 1.1.0 as recorded in the production catalog: 1.0.0 plus Poetry. Recorded, not published
 * from here (Docker Hub is out of reach): it carries no `published` digest until the platform team
 * releases it with `connector-build base publish 1.1.0`.
 */
export function productionVersion110(): BaseImageVersionData {
  return pythonConnectorBaseVersion({
    version: "1.1.0",
    changelog: `${CHANGELOG_1_1_0.replace("pip still pinned", "pip still pinned to 23.2.1")}`,
    rootImages: SEED_ROOT_IMAGES,
    facts: PRODUCTION_FACTS,
    poetry: POETRY_PINS_1_1_0,
  });
}

/**
 * Version 2.0.0 as recorded in the production catalog: 1.1.0 running as the non-root user `airbyte`
 * (uid/gid 1000). Recorded unpublished, like 1.1.0.
 */
export function productionVersion200(): BaseImageVersionData {
  return pythonConnectorBaseVersion({
    version: "2.0.0",
    changelog: CHANGELOG_2_0_0,
    rootImages: SEED_ROOT_IMAGES,
    facts: PRODUCTION_FACTS,
    poetry: POETRY_PINS_1_1_0,
    runtimeUser: AIRBYTE_RUNTIME_USER,
  });
}
