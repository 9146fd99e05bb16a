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
}

/** Build secret names (and the variables they become in each `withExec` of the build). */
export const PIP_INDEX_SECRETS = {
  /** PIP_INDEX_URL. */
  indexUrl: "pip-index-url",
  /** PIP_EXTRA_INDEX_URL (space-separated). */
  extraIndexUrl: "pip-extra-index-url",
  /** PIP_TRUSTED_HOST: the hosts of plain-http indexes, which pip refuses otherwise. */
  trustedHost: "pip-trusted-host",
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
export function parsePipIndexOptions(options: { indexUrl?: string | undefined; extraIndexUrls?: readonly string[] | undefined }): PipIndexOptions {
  const indexUrl = options.indexUrl?.trim() || undefined;
  const extraIndexUrls = (options.extraIndexUrls ?? []).flatMap((u) => u.split(/\s+/)).filter((u) => u !== "");
  if (indexUrl !== undefined) checkedUrl(indexUrl, "--pip-index-url");
  for (const url of extraIndexUrls) checkedUrl(url, "--pip-extra-index-url");
  return { ...(indexUrl !== undefined ? { indexUrl } : {}), ...(extraIndexUrls.length > 0 ? { extraIndexUrls } : {}) };
}

/** True when the options change anything. */
export function hasPipIndex(options: PipIndexOptions | undefined): options is PipIndexOptions {
  return options !== undefined && (options.indexUrl !== undefined || (options.extraIndexUrls?.length ?? 0) > 0);
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
