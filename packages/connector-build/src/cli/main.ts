import { AirbyteCiError } from "@airbyte-ci/base-images";
import { Command, CommanderError, Option } from "commander";
import { findDaggerCli } from "../engines/dagger/discovery.ts";
import { EXIT, exitCodeFor } from "../errors.ts";
import { installOutputBoundary, maskGivenCredentials } from "./output-boundary.ts";
import { machineConcurrency } from "../shared/pool.ts";

export { EXIT, exitCodeFor } from "../errors.ts";

/**
 * The CLI owns the process environment. The Dagger SDK picks its CLI from
 * `_EXPERIMENTAL_DAGGER_CLI_BIN` (without it, it downloads one): point it at the dagger on PATH.
 */
function prepareEnvironment(env: NodeJS.ProcessEnv): void {
  if (env._EXPERIMENTAL_DAGGER_CLI_BIN === undefined && !env.DAGGER_SESSION_PORT) {
    const cli = findDaggerCli(env);
    if (cli !== undefined) env._EXPERIMENTAL_DAGGER_CLI_BIN = cli;
  }
}

const engineOption = () =>
  new Option("--engine <engine>", "engine to build on: auto uses Dagger when a session or a dagger CLI is present, else Docker")
    .choices(["auto", "docker", "dagger"])
    .default("auto");
const imageEngineOption = () =>
  new Option("--engine <engine>", "engine resolving and running the images: docker (references and image ids of the local Docker, pulled when absent), dagger (references pulled from a registry), auto")
    .choices(["auto", "docker", "dagger"])
    .default("docker");
const catalogOption = () =>
  new Option(
    "--catalog <catalog>",
    "base image catalog: 'production' (shipped with @airbyte-ci/base-images), 'local' (the catalog file $CONNECTOR_BUILD_LOCAL_CATALOG names), or a path to a catalog JSON file",
  )
    .env("CONNECTOR_BUILD_CATALOG")
    .default("production");

/** `--pip-index-url`, read from AIRBYTE_CI_PIP_INDEX_URL when not given. */
const pipIndexUrlOption = () =>
  new Option(
    "--pip-index-url <url>",
    "package index for every dependency install of the build (pip's --index-url; Poetry's locked dependencies are installed with pip too), passed to the build as a secret, never in a layer, label or log; a plain http host is trusted",
  ).env("AIRBYTE_CI_PIP_INDEX_URL");
/** `--pip-extra-index-url` (repeatable), read from AIRBYTE_CI_PIP_EXTRA_INDEX_URL (space-separated) when not given. */
const pipExtraIndexUrlOption = () =>
  new Option("--pip-extra-index-url <url>", "an index searched besides it (repeatable; pip's --extra-index-url), passed as a secret too")
    .env("AIRBYTE_CI_PIP_EXTRA_INDEX_URL")
    .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);

/** `--ca-bundle`, read from AIRBYTE_CI_CA_BUNDLE_FILE when not given. */
const caBundleOption = () =>
  new Option(
    "--ca-bundle <file>",
    "PEM file of extra CA certificates (a TLS-intercepting proxy's): the resolver trusts it, and the install steps of builds receive its content as a secret (never in a layer), trusted besides the image's roots",
  ).env("AIRBYTE_CI_CA_BUNDLE_FILE");

/** What a command that returns an outcome (compare, analyze) asks the process to exit with. */
interface Outcome {
  exitCode: number;
}

function buildProgram(outcome: Outcome): Command {
  const program = new Command("connector-build")
    .description("Build Airbyte Python connector images on one common, digest-pinned base image.")
    .option("--debug", "print stack traces of errors")
    .showHelpAfterError(false)
    .exitOverride();

  const base = program.command("base").description("base image versions: list, render, build, check, release, publish, docs");
  base
    .command("list")
    .description("list the catalog's versions with their platforms and root image digests")
    .addOption(catalogOption())
    .option("--json", "print JSON")
    .action(async (opts) => (await import("./base-commands.ts")).listCommand(opts));
  base
    .command("dockerfile")
    .description("print the Dockerfile a version renders to for one platform")
    .argument("<version>", "base image version, e.g. 1.0.0")
    .addOption(catalogOption())
    .requiredOption("--platform <platform>", "linux/amd64 or linux/arm64")
    .action(async (version, opts) => (await import("./base-commands.ts")).dockerfileCommand(version, opts));
  base
    .command("build")
    .description("build a version for its platforms (or --platform ones)")
    .argument("<version>", "base image version")
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--platform <platforms>", "comma-separated platforms (default: every platform of the version)")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .action(async (version, opts) => (await import("./base-commands.ts")).buildCommand(version, opts));
  base
    .command("check")
    .description("build a version and run its sanity checks on every platform; exit 1 on any failure")
    .argument("<version>", "base image version")
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--platform <platforms>", "comma-separated platforms (default: every platform of the version)")
    .option("--json", "print the report as JSON")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .action(async (version, opts) => (await import("./base-commands.ts")).checkCommand(version, opts));
  program
    .command("build")
    .description("build connectors with the common build, verify each image answers spec, then output them")
    .argument("[connector-dir...]", "connector folders (each holds metadata.yaml); with --modified, folders to search for connectors (default: the current folder)")
    .addOption(engineOption())
    .addOption(catalogOption())
    .option("--platform <platforms>", "comma-separated platforms", "linux/amd64")
    .option("--output <output>", "docker (load into the local Docker as <dockerRepository>:<dockerImageTag>[-<arch>]), oci:<file> (a directory with several connectors), registry:<registry>[/<namespace>] (one multi-platform index per connector), or none", "docker")
    .option("--concurrency <n>", `connectors built at once (default: the machine's cores, ${machineConcurrency()} here)`)
    .option("--installer <uv|pip>", "what installs Python dependencies online: uv (pinned, hash-checked, mounted for the install step only) or pip", "uv")
    .option("--no-spec-cache", "run spec on every image, even one that answered before (default: an identical rebuild, same image id, is not verified again)")
    .option("--cache-scope <name>", "keep this build's dependency caches (uv, pip) apart from other builds' on the engine (a cold or isolated build)")
    .option("--secret <id=ENV_VAR...>", "expose the value of environment variable ENV_VAR as build secret <id> (repeatable)")
    .option("--json", "print a JSON result per connector on stdout")
    .option("--verbose", "stream the engine's build log on stderr")
    .option("--modified", "build only the connectors under the folders whose files changed since --since (base image changes named), as printed on stderr")
    .option("--since <git-ref>", "with --modified: the commit to compare the working tree with (default: the merge-base with the branch's upstream, else HEAD~1)")
    .option("--shard <i/n>", "build only shard i of n: a stable partition by technical name, balanced by count (for CI matrices)")
    .option("--list", "print the selected connector folders (with --json: and why) and build nothing")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .addOption(caBundleOption())
    .option("--force", "replace an existing oci: output file or registry tag (refused otherwise, before building)")
    .option("--hook-timeout <seconds>", "how long loading build_customization.ts, and each of its hooks, may take", "60")
    .option("--spec-timeout <seconds>", "how long each image's spec may run before the build fails and its container is removed", "120")
    .option("--no-sbom", "do not write (oci:) or publish (registry:) a CycloneDX SBOM beside each image and index")
    .option("--offline", "build from each connector's connector-build.lock with no network in build containers (needs --wheelhouse)")
    .option("--wheelhouse <dir>", "the artifacts connector-build lock --wheelhouse downloaded (with --offline)")
    .option("--sign-key <file>", "with --output registry:…, sign each index and platform manifest and attest its SLSA provenance and SBOMs in cosign's format with this PEM ECDSA P-256 private key (cosign's encrypted keys read COSIGN_PASSWORD)")
    .option("--reproducible", "publish (registry: output) the same digests for the same inputs: layer and config times from SOURCE_DATE_EPOCH (default: the connector's last git commit time, else 0), layers normalised, the base's layers reused as published")
    .action(async (dirs, opts) => (await import("./build-command.ts")).buildCommand(dirs, opts));
  program
    .command("sign")
    .description("sign published images in cosign's format (tag sha256-<digest>.sig): each index and each of its platform manifests; SBOMs published beside them are attested too (tag sha256-<digest>.att)")
    .argument("<image-ref...>", "<registry>/<repository>:<tag>[@sha256:…] of an index or a manifest")
    .requiredOption("--key <file>", "PEM ECDSA P-256 private key (PKCS#8, SEC1, or cosign's encrypted key with its password in COSIGN_PASSWORD)")
    .option("--no-sbom", "do not attest the SBOMs published beside the images")
    .option("--json", "print what was published as JSON")
    .action(async (refs, opts) => (await import("./trust-commands.ts")).signCommand(refs, opts));
  program
    .command("verify")
    .description("verify the cosign signature of the digest a reference resolves to (and, with --require, its signed SLSA provenance and SBOM attestations); exit 0 valid, 1 invalid or missing, 2 bad input")
    .argument("<image-ref>", "<registry>/<repository>:<tag>[@sha256:…]")
    .requiredOption("--key <file>", "PEM ECDSA P-256 public key (cosign.pub)")
    .option("--require <attestations>", "comma-separated attestations that must be present and signed: provenance, sbom")
    .option("--base <repository>", "policy: the provenance's base image must be of this <registry>/<repository> (implies --require provenance)")
    .option("--json", "print the checks as JSON")
    .action(async (ref, opts) => {
      outcome.exitCode = await (await import("./trust-commands.ts")).verifyCommand(ref, opts);
    });
  program
    .command("report")
    .description(
      "merge build --json results (e.g. one per CI shard) into one table, Markdown (a CI job summary) or JSON, and with --html a timeline page; exit 1 when any connector failed",
    )
    .argument("<result-json...>", "files holding the stdout of connector-build build --json")
    .option("--json", "print the merged results as one JSON array")
    .option("--markdown", "print a Markdown summary (totals, failures first with their reason, time per phase), e.g. >> $GITHUB_STEP_SUMMARY")
    .option("--html <file>", "also write a self-contained HTML page: a timeline with one bar per connector, its phases coloured (prepare, build, verify, output), failures marked")
    .action(async (files, opts) => {
      outcome.exitCode = await (await import("./report-command.ts")).reportCommand(files, opts);
    });
  base
    .command("release")
    .description("release the next version: build and check every platform, publish one index, then record it in the catalog")
    .addOption(catalogOption())
    .addOption(engineOption())
    .addOption(new Option("--bump <bump>", "semver bump from the latest version").choices(["major", "minor", "patch", "prerelease"]).makeOptionMandatory())
    .requiredOption("--changelog <text>", "what changed, for the catalog and the docs")
    .option("--publish-to <registry/repository>", "where to publish (default: the catalog's repository)")
    .option("--root-image <platform=address...>", "move a platform to another digest-pinned root image")
    .option("--force", "overwrite a version already in the catalog or a tag already in the registry")
    .option("--json", "print the result as JSON")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .action(async (opts) => (await import("./base-commands.ts")).releaseCommand(opts));
  base
    .command("publish")
    .description("build, check and publish a recorded but unpublished version, then record its digest")
    .argument("<version>", "base image version")
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--publish-to <registry/repository>", "where to publish (default: the catalog's repository)")
    .option("--force", "publish even when already published or the tag exists")
    .option("--if-unpublished", "do nothing when the version is already published")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .action(async (version, opts) => (await import("./base-commands.ts")).publishCommand(version, opts));
  base
    .command("docs")
    .description("regenerate the Markdown page of a catalog: versions, digests, changelog, Dockerfiles")
    .addOption(catalogOption())
    .option("--output <file>", "write to a file (atomically) instead of stdout")
    .action(async (opts) => (await import("./base-commands.ts")).docsCommand(opts));
  program
    .command("bump-base")
    .description("point connectors' metadata.yaml at a base image version, keeping comments and formatting")
    .argument("[connector-dir...]", "connector folders")
    .option("--all <repo-root>", "every connector (folder with metadata.yaml) under a repository")
    .option("--to <version>", "version to move to (default: the latest non-prerelease published version)")
    .addOption(catalogOption())
    .option("--dry-run", "print the diff and change nothing")
    .option("--force", "set baseImage even on a connector that still has a Dockerfile (connector-build migrate is the way to move those)")
    .action(async (dirs, opts) => (await import("./bump-base-command.ts")).bumpBaseCommand(dirs, opts));
  program
    .command("rebase")
    .description(
      "move published connector images onto another base version of the same major version without rebuilding: the base's layers, diff ids, history and inherited settings are swapped per platform through the registry API; every rebased image must answer spec before any tag moves, and the tags move last",
    )
    .argument("<image-ref|connector-dir...>", "registry/repository:tag of a published connector image (index or manifest), or a connector folder (with --registry)")
    .requiredOption("--to <version>", "base image version to move to")
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--registry <registry>", "where connector folders' images are published: <registry>[/<namespace>], as build --output registry:<registry>[/<namespace>]")
    .option("--tag <tag>", "publish the rebased images under this tag (default: each image's own tag); a tag holding another image is refused without --force")
    .option("--force", "replace a tag that holds another image than the one rebased")
    .option("--check-base", "run the new base's sanity checks again, once per platform, before pushing anything (default: not run again: a catalog version is published only after they passed)")
    .option("--json", "print a JSON result per image on stdout (new index address, per-platform digests and checks)")
    .option("--no-sbom", "do not publish fresh SBOMs beside the rebased images")
    .option("--concurrency <n>", `images pushed and verified at once (default: the machine's cores, ${machineConcurrency()} here)`)
    .action(async (refs, opts) => (await import("./rebase-command.ts")).rebaseCommand(refs, opts));
  program
    .command("sbom")
    .description(
      "print the CycloneDX 1.6 SBOM of an image: of the local Docker, of an OCI tarball, or published (the one published beside it, tag sha256-<digest>.sbom, else generated). Generated by running the image (Debian packages from dpkg, Python distributions with their RECORD file hashes, the base image from its labels)",
    )
    .argument(
      "<image>",
      "which image: docker:<ref> (the local Docker only, never pulled; through the Docker engine), oci:<file> (an OCI image layout tarball, e.g. from build --output oci:, or layout folder; read through the Docker engine), registry:<ref> (the registry only); without a prefix: an image id is local, a reference naming a registry host (first part with '.' or ':', or localhost) is the registry's, any other (airbyte/source-tickets:0.1.0) is the local Docker's image when it holds one, else the registry's",
    )
    .option("--platform <platform>", "the SBOM of this platform's image of an index or a multi-platform tarball (default: the whole)")
    .option("--regenerate", "registry images: generate it even when one is published")
    .option("--publish", "registry images: publish what was generated beside the image (per platform and per index)")
    .addOption(engineOption())
    .action(async (ref, opts) => (await import("./sbom-command.ts")).sbomCommand(ref, opts));
  program
    .command("lock")
    .description(
      "write connector-build.lock beside each metadata.yaml: the base image's digests per platform, every Python artifact of poetry.lock per platform (URL and sha256, the wheel the base image's Python would pick), and the hash of each dependency manifest and hook file; with --wheelhouse, download the artifacts (hash-checked) for build --offline",
    )
    .argument("<connector-dir...>", "connector folders (each holds metadata.yaml)")
    .option("--wheelhouse <dir>", "download every locked artifact into this folder")
    .option("--platform <platforms>", "comma-separated platforms (default: every platform of the base image)")
    .option("--index-url <url>", "PEP 503/691 simple index to resolve files from", "https://pypi.org/simple")
    .option("--as-of <date|git>", "resolve setup.py, requirements.txt or pyproject.toml (without poetry.lock) with uv as the index had them on this date (YYYY-MM-DD: its end, UTC; an RFC 3339 instant; git: each connector's last commit); the index must give upload times")
    .option("--python-version <X.Y>", "with --as-of: resolve for this Python instead of the base image's (e.g. 3.9, the production base's)")
    .option("--allow-yanked", "with --as-of: accept a yanked version that a requirement pins exactly (recorded in the lock)")
    .option("--uv <path>", "with --as-of: the uv to resolve with (default: /opt/airbyte-ci/uv-<version>/bin/uv, else uv on PATH)")
    .addOption(caBundleOption())
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--json", "print each lock as JSON")
    .action(async (dirs, opts) => (await import("./lock-command.ts")).lockCommand(dirs, opts));
  program
    .command("migrate")
    .description("move a Dockerfile-built connector to the common build: baseImage, build_customization.ts for what the common build does not do, Dockerfile deleted, patch version bumped; refuses with reasons what it cannot express")
    .argument("[connector-dir]", "connector folder holding metadata.yaml and a Dockerfile")
    .option("--all <repo-root>", "every connector analyze selects that still has a Dockerfile: one line each, then a summary")
    .option("--language <languages>", "with --all: languages to select, comma-separated (default: python,low-code)")
    .option("--support-level <levels>", "with --all: support levels to select, comma-separated (default: certified)")
    .addOption(catalogOption())
    .option("--dry-run", "print one patch (git apply / patch -p1) and change nothing; plans against the catalog's latest version even when unpublished")
    .option("--no-verify", "skip the verification (build from the Dockerfile, build with the common build, compare) that runs when Docker is available")
    .addOption(new Option("--engine <engine>", "engine verifying: docker (builds the Dockerfile too); auto uses Docker when present").choices(["auto", "docker", "dagger"]).default("auto"))
    .option("--platform <platform>", "platform the verification builds", "linux/amd64")
    .option("--before-from <image=address>", "replace a FROM image in the verification's Dockerfile build (repeatable), e.g. python:3.9-slim=127.0.0.1:5000/python:3.11-bookworm@sha256:…", (value: string, previous: string[] = []) => [...previous, value])
    .option("--as-of <date|git>", "write connector-build.lock resolved as the index had the dependencies on this date (YYYY-MM-DD, RFC 3339, or git: each connector's last commit), and verify both builds with its pins")
    .option("--python-version <X.Y>", "with --as-of: resolve for this Python instead of the base image's")
    .option("--allow-yanked", "with --as-of: accept a yanked version that a requirement pins exactly")
    .option("--uv <path>", "with --as-of: the uv to resolve with")
    .option("--index-url <url>", "with --as-of: the index the resolution reads (it must give upload times; default https://pypi.org/simple)")
    .addOption(pipIndexUrlOption())
    .addOption(pipExtraIndexUrlOption())
    .addOption(caBundleOption())
    .option("--json", "print the migration results as JSON")
    .action(async (dir, opts) => {
      outcome.exitCode = await (await import("./migrate-command.ts")).migrateCommand(dir, opts);
    });
  program
    .command("compare")
    .description(
      "compare two images by behaviour: environment (printenv, HOSTNAME/TRACEPARENT/OTEL_TRACE_PARENT ignored), entrypoint, cmd, workdir, user, labels, platform, Python and pip versions, system packages (dpkg/apk), Python distributions, spec output; exit 0 when identical, 1 when they differ, 2 when an image cannot be found",
    )
    .argument("<image-a>", "image reference: repo:tag, registry/repo@sha256:…, or an image id (looked up in the local Docker, pulled when absent)")
    .argument("<image-b>", "the image to compare it with (same forms)")
    .addOption(imageEngineOption())
    .option("--platform <platform>", "platform pulled when the engine does not hold an image (a local Docker image's own platform is used)", "linux/amd64")
    .option("--ignore-env <name>", "also ignore this environment variable (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--json", "print the comparison as JSON")
    .action(async (imageA, imageB, opts) => {
      outcome.exitCode = await (await import("./compare-command.ts")).compareCommand(imageA, imageB, opts);
    });
  program
    .command("analyze")
    .description(
      "group connectors' Dockerfiles into variants (the 2023 analysis notebook); with --images/--image also compare images: env vars common to all, same name with different values, image-specific, and system packages added over the base images. Markdown on stdout (or --json); exit 1 when an image could not be read",
    )
    .argument("[root]", "an Airbyte checkout (its airbyte-integrations/connectors is walked) or a folder of connectors")
    .option("--language <languages>", "languages to select, comma-separated (default: python,low-code)")
    .option("--support-level <levels>", "support levels to select, comma-separated (default: certified)")
    .option("--images", "analyse each variant's example image (<dockerRepository>:<dockerImageTag>) against the variants' FROM images")
    .option("--image <ref>", "analyse this image too, by reference (repeatable); no root needed", (value: string, previous: string[] = []) => [...previous, value])
    .option("--base-image <ref>", "base image whose packages are subtracted (repeatable; default: the variants' FROM images)", (value: string, previous: string[] = []) => [...previous, value])
    .addOption(imageEngineOption())
    .option("--platform <platform>", "platform pulled when the engine does not hold an image", "linux/amd64")
    .option("--json", "print { repository, images } as JSON")
    .option("--markdown", "print Markdown (the default)")
    .action(async (root, opts) => {
      outcome.exitCode = await (await import("./analyze-command.ts")).analyzeCommand(root, opts);
    });
  return program;
}

/** Runs the CLI; returns the exit code. Prints one clean error line (the stack with --debug). */
export async function main(argv: readonly string[]): Promise<number> {
  const outcome: Outcome = { exitCode: EXIT.ok };
  const restoreOutput = installOutputBoundary();
  maskGivenCredentials(argv, process.env);
  const program = buildProgram(outcome);
  program.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const debug = argv.includes("--debug");
  prepareEnvironment(process.env);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    const message = AirbyteCiError.isInstance(error) ? error.message : String((error as Error)?.message ?? error);
    process.stderr.write(`connector-build: error: ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  } finally {
    restoreOutput();
  }
}
