import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parsePlatformList } from "@airbyte-ci/base-images";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { buildConnectors } from "../build/build-connectors.ts";
import { parseBuildOutput } from "../build/output.ts";
import { parsePipIndexOptions } from "../connector/pip-index.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError } from "../errors.ts";
import { maskInOutput } from "./output-boundary.ts";
import { withCleanupOnInterrupt } from "./signals.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { createFleetProgress } from "../fleet/progress.ts";
import { selectFleet } from "../fleet/select-connectors.ts";
import { machineConcurrency } from "../shared/pool.ts";

/** Parses `--secret <id>=<ENV_VAR>` values: secrets come from the environment, never from argv. */
export function secretsFromEnv(specs: readonly string[]): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9_.-]+)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
    if (!m) throw new ConnectorBuildError("USAGE", `--secret '${spec.replace(/=.*/, "=…")}': expected <secret-id>=<ENV_VAR>, the value is read from that environment variable`);
    const value = process.env[m[2] as string];
    if (value === undefined) throw new ConnectorBuildError("USAGE", `--secret ${m[1]}: environment variable ${m[2]} is not set`);
    secrets[m[1] as string] = value;
  }
  return secrets;
}

export async function buildCommand(
  dirs: string[],
  opts: {
    engine: EngineChoice;
    platform: string;
    output: string;
    concurrency?: string;
    installer?: string;
    cacheScope?: string;
    specCache?: boolean;
    json?: boolean;
    catalog?: string;
    secret?: string[];
    verbose?: boolean;
    pipIndexUrl?: string;
    pipExtraIndexUrl?: string[] | string;
    caBundle?: string;
    force?: boolean;
    specTimeout?: string;
    hookTimeout?: string;
    sbom?: boolean;
    offline?: boolean;
    wheelhouse?: string;
    reproducible?: boolean;
    modified?: boolean;
    since?: string;
    shard?: string;
    list?: boolean;
    signKey?: string;
  },
): Promise<void> {
  const platforms = parsePlatformList(opts.platform, "--platform");
  const output = parseBuildOutput(opts.output);
  const concurrency = opts.concurrency === undefined ? machineConcurrency() : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConnectorBuildError("USAGE", `--concurrency '${opts.concurrency}': expected a positive integer`);
  const installer = opts.installer ?? "uv";
  if (installer !== "uv" && installer !== "pip") throw new ConnectorBuildError("USAGE", `--installer '${installer}': expected uv or pip`);
  if (opts.cacheScope !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(opts.cacheScope)) {
    throw new ConnectorBuildError("USAGE", `--cache-scope '${opts.cacheScope.slice(0, 80)}': expected 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  const specTimeout = Number(opts.specTimeout ?? "120");
  if (!Number.isFinite(specTimeout) || specTimeout <= 0) throw new ConnectorBuildError("USAGE", `--spec-timeout '${opts.specTimeout}': expected a positive number of seconds`);
  const hookTimeout = Number(opts.hookTimeout ?? "60");
  if (!Number.isFinite(hookTimeout) || hookTimeout <= 0) throw new ConnectorBuildError("USAGE", `--hook-timeout '${opts.hookTimeout}': expected a positive number of seconds`);
  const secrets = secretsFromEnv(opts.secret ?? []);
  const pipIndex = parsePipIndexOptions({ indexUrl: opts.pipIndexUrl, extraIndexUrls: [opts.pipExtraIndexUrl ?? []].flat(), caBundle: opts.caBundle });
  maskInOutput([...Object.values(secrets), process.env.REGISTRY_PASSWORD ?? ""]);
  if (opts.reproducible && output.kind !== "registry") throw new ConnectorBuildError("USAGE", `--reproducible: expected --output registry:<registry>[/<namespace>] (the normalised image is published), not ${opts.output}`);
  if (opts.offline && opts.wheelhouse === undefined) throw new ConnectorBuildError("USAGE", "--offline needs --wheelhouse <dir>: the folder connector-build lock --wheelhouse filled");
  if (!opts.offline && opts.wheelhouse !== undefined) throw new ConnectorBuildError("USAGE", "--wheelhouse is only read by offline builds: add --offline");
  if (opts.wheelhouse !== undefined && !existsSync(opts.wheelhouse)) throw new ConnectorBuildError("USAGE", `--wheelhouse ${opts.wheelhouse} does not exist: expected the folder connector-build lock --wheelhouse filled`);
  if (opts.signKey !== undefined && output.kind !== "registry") throw new ConnectorBuildError("USAGE", `--sign-key: expected --output registry:<registry>[/<namespace>] (signatures are published beside the images), not ${opts.output}`);
  const trust = opts.signKey !== undefined ? await import("./trust-commands.ts") : undefined;
  if (trust && output.kind === "registry") trust.assertSignableOutput(output.prefix);
  const signKey = trust && opts.signKey !== undefined ? trust.signingKeyFromCli(opts.signKey, "--sign-key") : undefined;
  const selection = await selectFleet(dirs, { ...opts, modified: opts.modified === true });
  for (const line of selection.explanation) process.stderr.write(`${line}\n`);
  if (opts.list) {
    const listed = selection.dirs.map((dir) => ({ dir, reasons: selection.modified?.selected.find((c) => c.dir === dir)?.reasons ?? [] }));
    process.stdout.write(opts.json ? `${JSON.stringify(listed, null, 2)}\n` : listed.map((c) => `${c.dir}\n`).join(""));
    return;
  }
  if (selection.dirs.length === 0) {
    process.stderr.write("nothing to build\n");
    if (opts.json) process.stdout.write("[]\n");
    return;
  }
  const { catalog } = loadCatalog(opts.catalog);
  const engine = await selectEngine(opts.engine);
  if (opts.offline && engine.name === "dagger") {
    throw new ConnectorBuildError("USAGE", `--offline on the dagger engine${opts.engine === "auto" ? " (--engine auto picked it)" : ""}: Dagger 0.21 runs every build step in its own network and offers clients no per-step network switch, so the build could not be kept offline: use --engine docker`);
  }
  // One live line per running connector on a terminal, plain lines otherwise; a table at the end.
  const progress = createFleetProgress(process.stderr);
  try {
    const results = await withCleanupOnInterrupt("the build", () => buildConnectors(selection.dirs, {
      engine,
      catalog,
      platforms,
      output,
      concurrency,
      installer,
      ...(opts.specCache === false ? { specCache: false as const } : {}),
      ...(opts.cacheScope !== undefined ? { cacheScope: opts.cacheScope } : {}),
      secrets,
      pipIndex,
      ...(opts.catalog !== undefined ? { catalogRef: opts.catalog } : {}),
      force: opts.force === true,
      specTimeoutMs: specTimeout * 1000,
      hookTimeoutMs: hookTimeout * 1000,
      // The push path and this check read the same credentials (REGISTRY_USERNAME/REGISTRY_PASSWORD or the Docker config).
      ...(output.kind === "registry" ? { registry: new RegistryClient() } : {}),
      sbom: opts.sbom !== false,
      ...(opts.reproducible ? { reproducible: true } : {}),
      ...(signKey !== undefined ? { signKey } : {}),
      ...(opts.offline && opts.wheelhouse !== undefined ? { offline: { wheelhouse: resolve(opts.wheelhouse) } } : {}),
      onProgress: (connector, line) => {
        if (opts.verbose && line.trim() !== "") progress.line(connector, line);
      },
      onPhase: (dir, connector, phase, detail) => progress.phase(dir, connector, phase, detail),
      onDone: (result) => progress.done(result),
    }));
    progress.finish(results, { table: results.length > 1 });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      for (const r of results) {
        if (r.status === "success") {
          const where = r.output?.reference ?? r.output?.path ?? r.platforms.map((p) => p.imageId).join(", ");
          // A registry output's reference already ends with @<digest>: it is printed once.
          const digest = r.output?.digest && !where.endsWith(`@${r.output.digest}`) ? `@${r.output.digest}` : "";
          process.stdout.write(`✓ ${r.connector} ${r.dockerImageTag} (${r.platforms.map((p) => p.platform).join(", ")}) → ${r.output?.kind ?? "none"}: ${where}${digest} [${(r.durationMs / 1000).toFixed(1)} s]\n`);
        } else {
          process.stdout.write(`✗ ${r.connector}: ${r.error?.message}\n`);
        }
      }
    }
    const failed = results.filter((r) => r.status === "failed");
    if (failed.length > 0) {
      const first = failed[0]?.error;
      throw new ConnectorBuildError(
        (first?.code as never) ?? "BUILD_FAILED",
        failed.length === 1 ? `${failed[0]?.connector}: ${first?.message}` : `${failed.length} of ${results.length} connectors failed: ${failed.map((f) => f.connector).join(", ")}`,
      );
    }
  } finally {
    await engine.close();
  }
}
