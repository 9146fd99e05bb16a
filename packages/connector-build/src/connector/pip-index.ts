import { existsSync, readFileSync, statSync } from "node:fs";
import { ImageRecipe, type RecipeOperation } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";

/**
 * Where the dependency installs of a build (pip, and Poetry's locked dependencies, which the common
 * build installs with pip) find packages: one setting for a whole build, base images included.
 * The URLs may carry credentials: they reach the build only as secrets.
 */
export interface PipIndexOptions {
  /** Replaces PyPI, as pip's `--index-url`. Default: pip's own (https://pypi.org/simple). */
  readonly indexUrl?: string;
  /** Searched besides the index, as pip's `--extra-index-url`. Default: none. */
  readonly extraIndexUrls?: readonly string[];
  /**
   * A PEM file of CA certificates the install steps trust besides their own (a corporate
   * TLS-intercepting proxy's, `--ca-bundle`). Its content reaches the build only as the secret
   * {@link PIP_INDEX_SECRETS.caBundle}, exposed as {@link CA_BUNDLE_VARIABLE}; an install step
   * wraps its command with {@link withCaBundle} to use it.
   */
  readonly caBundle?: string;
  /**
   * A constraints file (URL or path in the build) every install honours, as pip's `--constraint`
   * (PIP_CONSTRAINT): migrate's verification pins both builds with it to a lock's versions.
   */
  readonly constraint?: string;
}

/** The variable holding the `--ca-bundle` PEM text in each `withExec` of a build (a secret variable). */
export const CA_BUNDLE_VARIABLE = "AIRBYTE_CI_CA_BUNDLE";

/** Largest CA bundle taken (it travels as an environment variable, whose limit is 128 KiB). */
const CA_BUNDLE_MAX_BYTES = 64 * 1024;

/** Build secret names (and the variables they become in each `withExec` of the build). */
export const PIP_INDEX_SECRETS = {
  /** PIP_INDEX_URL. */
  indexUrl: "pip-index-url",
  /** PIP_EXTRA_INDEX_URL (space-separated). */
  extraIndexUrl: "pip-extra-index-url",
  /** PIP_TRUSTED_HOST: the hosts of plain-http indexes, which pip refuses otherwise. */
  trustedHost: "pip-trusted-host",
  /** AIRBYTE_CI_CA_BUNDLE: the PEM text of --ca-bundle. */
  caBundle: "pip-ca-bundle",
  /** PIP_CONSTRAINT. */
  constraint: "pip-constraint",
} as const;

/** A URL for messages: the password (and a token-like user) replaced by `****`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "****";
    else if (parsed.username !== "") parsed.username = "****";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//****@");
  }
}

function checkedUrl(value: string, option: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConnectorBuildError("USAGE", `${option} '${redactUrl(value)}' is not a URL: expected http(s)://<host>[:<port>]/<path>, e.g. https://pypi.org/simple`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConnectorBuildError("USAGE", `${option} '${redactUrl(value)}': expected an http:// or https:// URL of a package index`);
  }
  return url;
}

/**
 * Validates pip index settings (every problem names the option, never a password) and drops empty
 * values; extra URLs given as one space-separated string (as pip's own variable takes them) are split.
 */
export function parsePipIndexOptions(options: { indexUrl?: string | undefined; extraIndexUrls?: readonly string[] | undefined; caBundle?: string | undefined }): PipIndexOptions {
  const indexUrl = options.indexUrl?.trim() || undefined;
  const extraIndexUrls = (options.extraIndexUrls ?? []).flatMap((u) => u.split(/\s+/)).filter((u) => u !== "");
  if (indexUrl !== undefined) checkedUrl(indexUrl, "--pip-index-url");
  for (const url of extraIndexUrls) checkedUrl(url, "--pip-extra-index-url");
  const caBundle = options.caBundle?.trim() || undefined;
  if (caBundle !== undefined) readCaBundle(caBundle);
  return { ...(indexUrl !== undefined ? { indexUrl } : {}), ...(extraIndexUrls.length > 0 ? { extraIndexUrls } : {}), ...(caBundle !== undefined ? { caBundle } : {}) };
}

/** The PEM text of a `--ca-bundle` file, checked: a readable file of at most 64 KiB holding at least one certificate. */
export function readCaBundle(path: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) throw new ConnectorBuildError("USAGE", `--ca-bundle ${path} is not a file: expected a PEM file of CA certificates`);
  if (statSync(path).size > CA_BUNDLE_MAX_BYTES) {
    throw new ConnectorBuildError("USAGE", `--ca-bundle ${path} is ${statSync(path).size} bytes: expected at most ${CA_BUNDLE_MAX_BYTES} (only the extra CAs, e.g. the proxy's; the image keeps its own roots)`);
  }
  const text = readFileSync(path, "utf8");
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text)) {
    throw new ConnectorBuildError("USAGE", `--ca-bundle ${path} holds no PEM certificate: expected -----BEGIN CERTIFICATE----- blocks`);
  }
  return text;
}

/**
 * `args` run so that, when the build carries a CA bundle ({@link CA_BUNDLE_VARIABLE}), pip, uv
 * and requests trust it besides the image's roots (pip's certifi, else the system bundle): the
 * bundle is written to a temporary file for that command only (SSL_CERT_FILE, PIP_CERT,
 * REQUESTS_CA_BUNDLE, UV_NATIVE_TLS unset so uv reads SSL_CERT_FILE), then removed, so no layer keeps it.
 * Without the variable the command runs as it is.
 */
export function withCaBundle(args: readonly string[]): string[] {
  const script = [
    `if [ -n "\${${CA_BUNDLE_VARIABLE}:-}" ]; then`,
    `ca=$(mktemp);`,
    `roots=$(python -c "from pip._vendor import certifi; print(certifi.where())" 2>/dev/null || echo /etc/ssl/certs/ca-certificates.crt);`,
    `{ cat "$roots" 2>/dev/null; printf '%s\n' "$${CA_BUNDLE_VARIABLE}"; } > "$ca";`,
    `SSL_CERT_FILE="$ca" PIP_CERT="$ca" REQUESTS_CA_BUNDLE="$ca" "$@"; rc=$?; rm -f "$ca"; exit $rc;`,
    `fi;`,
    `exec "$@"`,
  ].join(" ");
  return ["sh", "-c", script, "sh", ...args];
}

/** True when the options change anything. */
export function hasPipIndex(options: PipIndexOptions | undefined): options is PipIndexOptions {
  return options !== undefined && (options.indexUrl !== undefined || (options.extraIndexUrls?.length ?? 0) > 0 || options.caBundle !== undefined || options.constraint !== undefined);
}

/** The secret values a build with these options needs, by secret name. */
export function pipIndexSecrets(options: PipIndexOptions | undefined): Record<string, string> {
  if (!hasPipIndex(options)) return {};
  const urls = [...(options.indexUrl !== undefined ? [options.indexUrl] : []), ...(options.extraIndexUrls ?? [])];
  const secrets: Record<string, string> = {};
  if (options.indexUrl !== undefined) secrets[PIP_INDEX_SECRETS.indexUrl] = options.indexUrl;
  if (options.extraIndexUrls?.length) secrets[PIP_INDEX_SECRETS.extraIndexUrl] = options.extraIndexUrls.join(" ");
  const plainHosts = [...new Set(urls.map((u) => checkedUrl(u, "--pip-index-url")).filter((u) => u.protocol === "http:").map((u) => u.host))];
  if (plainHosts.length > 0) secrets[PIP_INDEX_SECRETS.trustedHost] = plainHosts.join(" ");
  if (options.caBundle !== undefined) secrets[PIP_INDEX_SECRETS.caBundle] = readCaBundle(options.caBundle);
  if (options.constraint !== undefined) secrets[PIP_INDEX_SECRETS.constraint] = options.constraint;
  return secrets;
}

/** The secret variables (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST) a recipe declares after its FROM for these settings; none without settings. */
export function indexSecretVariables(options: PipIndexOptions | undefined): RecipeOperation[] {
  const secrets = pipIndexSecrets(options);
  const variables: RecipeOperation[] = [];
  if (secrets[PIP_INDEX_SECRETS.indexUrl] !== undefined) variables.push({ op: "withSecretVariable", name: "PIP_INDEX_URL", secret: PIP_INDEX_SECRETS.indexUrl });
  if (secrets[PIP_INDEX_SECRETS.extraIndexUrl] !== undefined) {
    variables.push({ op: "withSecretVariable", name: "PIP_EXTRA_INDEX_URL", secret: PIP_INDEX_SECRETS.extraIndexUrl });
  }
  if (secrets[PIP_INDEX_SECRETS.trustedHost] !== undefined) {
    variables.push({ op: "withSecretVariable", name: "PIP_TRUSTED_HOST", secret: PIP_INDEX_SECRETS.trustedHost });
  }
  if (secrets[PIP_INDEX_SECRETS.constraint] !== undefined) variables.push({ op: "withSecretVariable", name: "PIP_CONSTRAINT", secret: PIP_INDEX_SECRETS.constraint });
  if (secrets[PIP_INDEX_SECRETS.caBundle] !== undefined) variables.push({ op: "withSecretVariable", name: CA_BUNDLE_VARIABLE, secret: PIP_INDEX_SECRETS.caBundle });
  return variables;
}

/**
 * A base image version's recipe (catalog data) with the pip index settings exposed to every `withExec` after each `from`, as secret
 * variables (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST): pip reads them, nothing stores
 * them. Without settings the recipe is returned as it is, so the build is the one it always was.
 */
export function withPipIndex(recipe: ImageRecipe, options: PipIndexOptions | undefined): ImageRecipe {
  const variables = indexSecretVariables(options);
  if (variables.length === 0) return recipe;
  const operations = recipe.operations.flatMap((op) => (op.op === "from" ? [op, ...variables] : [op]));
  return ImageRecipe.fromOperations(operations, "recipe with the pip index");
}
