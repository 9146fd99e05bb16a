import { resolve } from "node:path";
import { parsePlatformList } from "@airbyte-ci/base-images";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { lockConnectors } from "../supply-chain/lock.ts";
import { findUv, parseAsOf, parsePythonVersion } from "../supply-chain/as-of.ts";
import { readCaBundle, redactUrl } from "../connector/pip-index.ts";
import { ConnectorBuildError } from "../errors.ts";

/** Options of {@link lockCommand}. */
export interface LockCommandOptions {
  wheelhouse?: string;
  platform?: string;
  indexUrl?: string;
  catalog?: string;
  engine?: EngineChoice;
  json?: boolean;
  /** `--as-of <date|git>`: resolve setup.py / requirements.txt / pyproject.toml as the index had them then, with uv. */
  asOf?: string;
  pythonVersion?: string;
  allowYanked?: boolean;
  uv?: string;
  caBundle?: string;
}

/** `connector-build lock <connector-dir>...`: writes connector-build.lock beside each metadata.yaml. */
export async function lockCommand(dirs: string[], opts: LockCommandOptions): Promise<void> {
  if (opts.indexUrl !== undefined && !/^https?:$/.test(URL.parse(opts.indexUrl)?.protocol ?? "")) {
    throw new ConnectorBuildError("USAGE", `--index-url '${redactUrl(opts.indexUrl)}': expected the http(s):// URL of a PEP 503 simple index, e.g. https://pypi.org/simple`);
  }
  const platforms = opts.platform !== undefined ? parsePlatformList(opts.platform, "--platform") : undefined;
  const asOf = opts.asOf !== undefined ? parseAsOf(opts.asOf) : undefined;
  if (asOf === undefined && (opts.pythonVersion !== undefined || opts.allowYanked || opts.uv !== undefined)) {
    throw new ConnectorBuildError("USAGE", "lock: --python-version, --allow-yanked and --uv apply to a resolution: add --as-of <YYYY-MM-DD|git>");
  }
  const pythonVersion = opts.pythonVersion !== undefined ? parsePythonVersion(opts.pythonVersion) : undefined;
  const caBundle = opts.caBundle !== undefined ? resolve(opts.caBundle) : undefined;
  if (caBundle !== undefined) readCaBundle(caBundle);
  const uv = asOf !== undefined ? findUv(opts.uv !== undefined ? resolve(opts.uv) : undefined) : undefined;
  const { catalog } = loadCatalog(opts.catalog);
  const engine = await selectEngine(opts.engine ?? "auto");
  try {
    const results = await lockConnectors(dirs, {
      engine,
      catalog,
      ...(platforms !== undefined ? { platforms } : {}),
      ...(opts.indexUrl !== undefined ? { indexUrl: opts.indexUrl } : {}),
      ...(opts.wheelhouse !== undefined ? { wheelhouse: resolve(opts.wheelhouse) } : {}),
      ...(asOf !== undefined ? { asOf, uv, ...(opts.allowYanked ? { allowYanked: true } : {}) } : {}),
      ...(pythonVersion !== undefined ? { pythonVersion } : {}),
      ...(caBundle !== undefined ? { caBundle } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(results.map(({ connector, path, downloaded, lock }) => ({ connector, path, downloaded, lock })), null, 2)}\n`);
    else {
      for (const r of results) {
        const counts = Object.entries(r.lock.platforms).map(([p, v]) => `${p}: ${v.artifacts.length}`).join(", ");
        const asOfNote = r.lock.resolution ? `, as of ${r.lock.resolution.asOf}${r.lock.resolution.yanked.length > 0 ? `, yanked accepted: ${r.lock.resolution.yanked.join(" ")}` : ""}` : "";
        process.stdout.write(`✓ ${r.connector} → ${r.path} (${counts} artifacts${asOfNote}${opts.wheelhouse !== undefined ? `, ${r.downloaded} downloaded` : ""})\n`);
      }
    }
  } finally {
    await engine.close();
  }
}
