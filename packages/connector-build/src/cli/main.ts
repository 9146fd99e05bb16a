import { AirbyteCiError } from "@airbyte-ci/base-images";
import { Command, CommanderError, Option } from "commander";
import { ConnectorBuildError } from "../errors.ts";

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, engine: 3, interrupted: 130 } as const;

const INPUT_CODES = new Set([
  "USAGE",
  "INVALID_IMAGE_ADDRESS",
  "INVALID_PLATFORM",
  "INVALID_RECIPE",
  "INVALID_CATALOG",
  "UNKNOWN_VERSION",
  "UNKNOWN_BASE_IMAGE",
  "CATALOG_NOT_FOUND",
  "INVALID_METADATA",
  "INVALID_CONNECTOR",
  "HOOK_FAILED",
  "RELEASE_REFUSED",
  "MIGRATION_REFUSED",
]);

/** Maps an error to the CLI's exit code. */
export function exitCodeFor(error: unknown): number {
  if (AirbyteCiError.isInstance(error)) {
    if (error.code === "ENGINE_UNAVAILABLE") return EXIT.engine;
    if (error.code === "INTERRUPTED") return EXIT.interrupted;
    if (INPUT_CODES.has(error.code)) return EXIT.usage;
  }
  return EXIT.failure;
}

const engineOption = () =>
  new Option("--engine <engine>", "engine to build on: auto uses Dagger when a session or a dagger CLI is present, else Docker")
    .choices(["auto", "docker", "dagger"])
    .default("auto");
const catalogOption = () =>
  new Option(
    "--catalog <catalog>",
    "base image catalog: 'production' (shipped with @airbyte-ci/base-images), 'local' (the fixture catalog scripts/env/setup.sh generates in .local/fixture/catalog.json, built on this machine's local registry), or a path to a catalog JSON file",
  )
    .env("CONNECTOR_BUILD_CATALOG")
    .default("production");

function buildProgram(): Command {
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
    .action(async (version, opts) => (await import("./base-commands.ts")).buildCommand(version, opts));
  base
    .command("check")
    .description("build a version and run its sanity checks on every platform; exit 1 on any failure")
    .argument("<version>", "base image version")
    .addOption(catalogOption())
    .addOption(engineOption())
    .option("--platform <platforms>", "comma-separated platforms (default: every platform of the version)")
    .option("--json", "print the report as JSON")
    .action(async (version, opts) => (await import("./base-commands.ts")).checkCommand(version, opts));
  return program;
}

/** Runs the CLI; returns the exit code. Prints one clean error line (the stack with --debug). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    const message = AirbyteCiError.isInstance(error) || error instanceof ConnectorBuildError ? error.message : String((error as Error)?.message ?? error);
    process.stderr.write(`connector-build: error: ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
