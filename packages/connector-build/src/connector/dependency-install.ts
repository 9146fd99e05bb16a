/**
 * The dependency install of the common build, as recipe operations emitted once from parameters
 * (the install strategy, the dependency inputs, the platform): nothing rewrites a finished recipe.
 *
 * Online (`index`), the installer is uv by default: pinned ({@link UV_VERSION}), hash-checked, and
 * only mounted for the install steps (an engine cache volume per uv version and platform, filled
 * once by pip from the build's own index), so it never lands in an image and works on every base
 * version. The dependency set is written as a file whose content is the set alone (no connector
 * name), so connectors with the same set on the same base share the layer; a shared uv cache serves
 * the rest. sdists build with isolation, each with its declared backend, as pip and uv do by default.
 *
 * Offline (`wheelhouse`), pip installs the locked artifacts from the wheelhouse cache volume the
 * offline plan seeded (supply-chain/offline-build.ts), with no index and every hash checked.
 */
import type { ImageRecipe, Platform } from "@airbyte-ci/base-images";
import type { DependencyInputs } from "./dependency-inputs.ts";
import { withCaBundle, type PipIndexOptions } from "./pip-index.ts";

/** The uv release the build installs with, and its wheels' sha256 for the Linux platforms connectors run on. */
export const UV_VERSION = "0.13.8";
const UV_SHA256 = [
  "e18a57b8b352eb7c8feb317b9f6f533c8f0ad9673fd6cf34bbe3cf1a9f6a8984", // manylinux_2_17 x86_64
  "29451c60f5e8b07403e0a175d5229efc36b0289b34143ff4aaa499a5dd52553a", // musllinux_1_1 x86_64
  "0b3e8b1a4f5e405e31e2ff33de8af4744831e9f7338539671efbd8c3c94e791d", // manylinux_2_17 / musllinux_1_1 aarch64
  "5337c30bb893b4f9ce0ceb921ba2da0d13f649da644f40ad3bef84083bef0203", // manylinux_2_28 aarch64
];

/** `uv` (default) or `pip`: which installer resolves and installs online. */
export type Installer = "uv" | "pip";

/**
 * Where dependencies come from:
 * - `index`: a package index (PyPI, or `index`'s settings, given to the steps as secrets);
 * - `wheelhouse`: an offline build's locked artifacts in the engine cache volume `cache`, mounted at
 *   `mount` (no network); `buildRequirements` when sdists need their backends from it.
 */
export type InstallStrategy =
  | {
      readonly kind: "index";
      /** Default `uv`. */
      readonly installer?: Installer;
      /** Index settings (as secrets). Default: PyPI. */
      readonly index?: PipIndexOptions;
      /** Suffix of the engine cache volumes (uv, its cache, pip's): builds with another scope share nothing (a cold or isolated build). Default: shared by every build. */
      readonly cacheScope?: string;
    }
  | { readonly kind: "wheelhouse"; readonly cache: string; readonly mount: string; readonly requirements: boolean; readonly buildRequirements: boolean };

/** Where the dependency set is written in the image (a small file: what the dependency layer installed). */
export const DEPENDENCY_SET_FILE = "/airbyte/dependencies.txt";
const UV_TOOL = "/root/.cache/airbyte-ci-uv";
const UV_CACHE = "/root/.cache/uv";
const PIP_CACHE = "/root/.cache/pip";

/** Runs `args` in the recipe, with SOURCE_DATE_EPOCH when the build is reproducible. */
export type Exec = (recipe: ImageRecipe, args: readonly string[]) => ImageRecipe;

function platformKey(platform: Platform): string {
  return platform.replace(/[^a-z0-9]+/gi, "-");
}

/** Shell that fills the uv cache volume once (pip, hash-checked, atomic rename) and defines `uv`'s index flags. */
function uvPrelude(index: PipIndexOptions | undefined): string {
  const hashes = UV_SHA256.map((h) => `--hash=sha256:${h}`).join(" ");
  return [
    "set -e",
    `if [ ! -x ${UV_TOOL}/uv/bin/uv ]; then t="$(mktemp -d ${UV_TOOL}/.install.XXXXXX)"; printf '%s\\n' 'uv==${UV_VERSION} ${hashes}' >"$t.txt"; python -m pip install --disable-pip-version-check --no-cache-dir --quiet --no-deps --require-hashes --target "$t" -r "$t.txt"; rm -f "$t.txt"; mv -T "$t" ${UV_TOOL}/uv 2>/dev/null || rm -rf "$t"; fi`,
    `export UV_CACHE_DIR=${UV_CACHE} UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 UV_COMPILE_BYTECODE=1`,
    // uv reads no PIP_* variables: the build's index settings (secrets) are handed over; with extra
    // indexes, pip's rule (the best version across all indexes) rather than uv's first-index default.
    'set -- ${PIP_INDEX_URL:+--index-url "$PIP_INDEX_URL"}; for u in ${PIP_EXTRA_INDEX_URL:-}; do set -- "$@" --extra-index-url "$u"; done',
    ...((index?.extraIndexUrls?.length ?? 0) > 0 ? ['set -- "$@" --index-strategy unsafe-best-match'] : []),
    // A constraints file (migrate's pins as of a date) is pip's PIP_CONSTRAINT; uv takes it as a flag.
    'if [ -n "${PIP_CONSTRAINT:-}" ]; then set -- "$@" --constraint "$PIP_CONSTRAINT"; fi',
    `uv() { ${UV_TOOL}/uv/bin/uv "$@"; }`,
  ].join("; ");
}

function withInstallerMounts(recipe: ImageRecipe, strategy: Extract<InstallStrategy, { kind: "index" }>, platform: Platform): ImageRecipe {
  const scope = strategy.cacheScope !== undefined ? `-${strategy.cacheScope.replace(/[^A-Za-z0-9_.-]/g, "-")}` : "";
  const pip = recipe.withMountedCache(PIP_CACHE, `pip-cache${scope}`);
  if ((strategy.installer ?? "uv") === "pip") return pip;
  return pip.withMountedCache(UV_TOOL, `airbyte-ci-uv-${UV_VERSION}-${platformKey(platform)}${scope}`).withMountedCache(UV_CACHE, `airbyte-ci-uv-cache-${platformKey(platform)}${scope}`);
}

function withoutInstallerMounts(recipe: ImageRecipe, installer: Installer): ImageRecipe {
  return installer === "uv" ? recipe.withoutMount(UV_CACHE).withoutMount(UV_TOOL).withoutMount(PIP_CACHE) : recipe.withoutMount(PIP_CACHE);
}

/** One install command for the installer: `uv pip install --system …` or `python -m pip install …`. */
function installCommand(installer: Installer, index: PipIndexOptions | undefined, args: readonly string[]): string[] {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const command = installer === "uv" ? ["sh", "-c", `${uvPrelude(index)}; uv pip install --system --break-system-packages "$@" ${quoted}`] : ["python", "-m", "pip", "install", "--disable-pip-version-check", ...args];
  // A CA bundle (--ca-bundle) is trusted for this command only, from the build secret; no layer keeps it.
  return index?.caBundle !== undefined ? withCaBundle(command) : command;
}

/**
 * The dependency layer: the set and its install, before the connector's code is copied (a
 * code-only change reuses it). A set that has to be read from the connector's own build (see
 * `DependencySet`) copies the manifests and installs them as they are.
 */
export function withDependencyLayer(recipe: ImageRecipe, inputs: DependencyInputs, platform: Platform, strategy: InstallStrategy, exec: Exec): ImageRecipe {
  if (strategy.kind === "wheelhouse") return withWheelhouseInstall(recipe, inputs, strategy, exec);
  const installer = strategy.installer ?? "uv";
  const { set } = inputs;
  if (set.kind === "connector") {
    let r = recipe;
    for (const manifest of inputs.manifests) r = r.withFile(manifest, manifest);
    r = withInstallerMounts(r, strategy, platform);
    if (inputs.manifests.includes("requirements.txt")) r = exec(r, installCommand(installer, strategy.index, ["-r", "requirements.txt"]));
    if (inputs.selfInstall === "package") r = exec(r, installCommand(installer, strategy.index, ["."]));
    return withoutInstallerMounts(r, installer);
  }
  const lines = set.kind === "locked" ? set.lines(platform) : set.lines;
  if (lines.length === 0) return recipe;
  const locked = set.kind === "locked" ? ["--no-deps", ...(set.hashed === false ? [] : ["--require-hashes"])] : [];
  let r = recipe.withNewFile(DEPENDENCY_SET_FILE, `${lines.join("\n")}\n`);
  r = withInstallerMounts(r, strategy, platform);
  r = exec(r, installCommand(installer, strategy.index, [...locked, "-r", DEPENDENCY_SET_FILE]));
  return withoutInstallerMounts(r, installer);
}

/**
 * The connector's own package, once its code is in place, without its dependencies (the dependency
 * layer holds them): a setup.py-only project builds with the base image's setuptools (what it
 * declares by having no pyproject.toml), a pyproject one (Poetry's too) with its declared backend.
 * A Poetry project in non-package mode has no package; offline, a Poetry project's root package is
 * not installed (the connector runs from its code directory).
 */
export function withConnectorPackage(recipe: ImageRecipe, inputs: DependencyInputs, platform: Platform, strategy: InstallStrategy, exec: Exec, poetryPackageMode: boolean): ImageRecipe {
  if (inputs.selfInstall === "none" || (inputs.selfInstall === "poetry-root" && !poetryPackageMode)) return recipe;
  if (inputs.set.kind === "connector" || strategy.kind === "wheelhouse") return recipe;
  const installer = strategy.installer ?? "uv";
  // A setup.py-only package (no pyproject.toml declares a backend) builds with the base image's own
  // setuptools: pip needs neither an index nor uv for that, so a dependency-free connector builds offline.
  if (!inputs.manifests.includes("pyproject.toml")) return exec(recipe, ["python", "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "."]);
  // A pyproject one (Poetry's included) builds with its declared backend, in isolation: no Poetry in the base needed.
  // A Poetry project's package is editable (PEP 660), pointing at the code directory: one copy of the code.
  let r = withInstallerMounts(recipe, strategy, platform);
  r = exec(r, installCommand(installer, strategy.index, ["--no-deps", ...(inputs.selfInstall === "poetry-root" ? ["-e"] : []), "."]));
  return withoutInstallerMounts(r, installer);
}

/** Offline: the locked artifacts from the wheelhouse volume; a setup.py connector installs itself from it. */
function withWheelhouseInstall(recipe: ImageRecipe, inputs: DependencyInputs, strategy: Extract<InstallStrategy, { kind: "wheelhouse" }>, exec: Exec): ImageRecipe {
  const mount = strategy.mount;
  const pip = ["python", "-m", "pip", "install", "--disable-pip-version-check", "--no-index", "--find-links", mount, "--no-build-isolation"];
  // Build backends of sdists go into the cache volume, on PYTHONPATH for the install only: never in the image.
  const buildDeps = `${mount}/build-deps`;
  const withBackends = strategy.buildRequirements ? ["env", `PYTHONPATH=${buildDeps}`, ...pip] : pip;
  let r = recipe;
  for (const manifest of inputs.manifests) r = r.withFile(manifest, manifest);
  r = r.withMountedCache(mount, strategy.cache, { sharing: "locked" });
  if (strategy.buildRequirements) r = exec(r, [...pip, "--no-deps", "--require-hashes", "--target", buildDeps, "-r", `${mount}/build-requirements.txt`]);
  if (strategy.requirements) r = exec(r, [...withBackends, "--no-deps", "--require-hashes", "-r", `${mount}/requirements.txt`]);
  if (inputs.manifests.includes("setup.py")) r = exec(r, [...withBackends, "."]);
  return r.withoutMount(mount);
}
