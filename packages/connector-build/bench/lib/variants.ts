/** The three most common Dockerfile variants the seed analysis printed, adapted to the local fixture. */
export type VariantId = 1 | 2 | 3;

export interface VariantInput {
  /** The fixture root image address (`127.0.0.1:5000/python:3.11-bookworm@sha256:…`). */
  readonly rootImage: string;
  readonly technicalName: string;
  readonly packageDir: string;
  readonly version: string;
}

/**
 * Adaptations, the same for all three (everything else is the seed's text):
 * - `FROM python:3.9-slim` / `python:3.9.11-alpine3.15` → the fixture root image (Python 3.11 on
 *   Debian bookworm, by digest): Docker Hub is unreachable.
 * - `ARG PIP_INDEX_URL` and `ARG PIP_TRUSTED_HOST` after each FROM that runs pip: pip reads them
 *   from the environment, so the `pip install` lines stay as in the seed and resolve against the
 *   loopback index; the trusted host makes pip keep its HTTP cache as it does for https PyPI.
 * - "bash is installed for more convenient debugging": bash is already in the fixture image, so
 *   `apt-get update && apt-get install -y bash` / `apk add bash` become a check that it is there
 *   (no package mirror in the timing; this favours the variants, not the common build).
 * - Variant 2 (alpine): `apk upgrade` + `apk add tzdata build-base` → a check that tzdata's UTC zone
 *   is present (pure-Python wheels need no compiler); the multi-stage structure,
 *   `pip install --upgrade pip` and `pip install --prefix=/install .` are kept. Debian's Python puts
 *   a `--prefix` install under `<prefix>/local/lib/python3.11/dist-packages`, so the copy is
 *   `COPY --from=builder /install/local /usr/local` (the seed's `/install` → `/usr/local` would land
 *   in `/usr/local/local`, off `sys.path`).
 */
export function variantDockerfile(variant: VariantId, input: VariantInput): string {
  const { rootImage, technicalName, packageDir, version } = input;
  const tail = [
    'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"',
    'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
    `LABEL io.airbyte.version=${version}`,
    `LABEL io.airbyte.name=airbyte/${technicalName}`,
  ];
  switch (variant) {
    case 1:
      return [
        `FROM ${rootImage}`,
        "ARG PIP_INDEX_URL",
        "ARG PIP_TRUSTED_HOST",
        "# Bash is installed for more convenient debugging. (Already in the fixture root image: checked.)",
        "RUN command -v bash",
        "WORKDIR /airbyte/integration_code",
        `COPY ${packageDir} ./${packageDir}`,
        "COPY main.py ./",
        "COPY setup.py ./",
        "RUN pip install .",
        ...tail,
        "",
      ].join("\n");
    case 2:
      return [
        `FROM ${rootImage} as base`,
        "# build and load all requirements",
        "FROM base as builder",
        "ARG PIP_INDEX_URL",
        "ARG PIP_TRUSTED_HOST",
        "WORKDIR /airbyte/integration_code",
        "# upgrade pip to the latest version (apk upgrade/tzdata/build-base: tzdata is in the fixture image, checked)",
        "RUN test -e /usr/share/zoneinfo/Etc/UTC \\",
        "    && pip install --upgrade pip",
        "COPY setup.py ./",
        "# install necessary packages to a temporary folder",
        "RUN pip install --prefix=/install .",
        "# build a clean environment",
        "FROM base",
        "WORKDIR /airbyte/integration_code",
        "# copy all loaded and built libraries to a pure basic image (Debian: the prefix install is under /install/local)",
        "COPY --from=builder /install/local /usr/local",
        "# add default timezone settings",
        "COPY --from=builder /usr/share/zoneinfo/Etc/UTC /etc/localtime",
        'RUN echo "Etc/UTC" > /etc/timezone',
        "# bash is installed for more convenient debugging. (Already in the fixture root image: checked.)",
        "RUN command -v bash",
        "# copy payload code only",
        "COPY main.py ./",
        `COPY ${packageDir} ./${packageDir}`,
        ...tail,
        "",
      ].join("\n");
    case 3:
      return [
        `FROM ${rootImage}`,
        "ARG PIP_INDEX_URL",
        "ARG PIP_TRUSTED_HOST",
        "# Bash is installed for more convenient debugging. (Already in the fixture root image: checked.)",
        "RUN command -v bash",
        "WORKDIR /airbyte/integration_code",
        "COPY setup.py ./",
        "RUN pip install .",
        `COPY ${packageDir} ./${packageDir}`,
        "COPY main.py ./",
        ...tail,
        "",
      ].join("\n");
  }
}

/**
 * The peer's Dockerfile for a poetry project, as a team writes it with pip: the project files, then
 * `pip install .` (PEP 517 through the project's poetry-core backend; pip resolves the version
 * constraints of pyproject.toml, it does not read poetry.lock), then the entry point.
 */
export function poetryPeerDockerfile(input: VariantInput): string {
  const { rootImage, technicalName, packageDir, version } = input;
  return [
    `FROM ${rootImage}`,
    "ARG PIP_INDEX_URL",
    "ARG PIP_TRUSTED_HOST",
    "WORKDIR /airbyte/integration_code",
    "COPY pyproject.toml poetry.lock README.md ./",
    `COPY ${packageDir} ./${packageDir}`,
    "RUN pip install .",
    "COPY main.py ./",
    'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"',
    'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
    `LABEL io.airbyte.version=${version}`,
    `LABEL io.airbyte.name=airbyte/${technicalName}`,
    "",
  ].join("\n");
}
