import { resolve } from "node:path";
import { ConnectorBuildError } from "../errors.ts";

/** Where built images go. */
export type BuildOutput =
  | { readonly kind: "docker" }
  | { readonly kind: "oci"; readonly path: string }
  | { readonly kind: "registry"; readonly prefix: string }
  | { readonly kind: "none" };

/** Parses `--output docker|oci:<file>|registry:<ref>|none`. */
export function parseBuildOutput(value: string): BuildOutput {
  if (value === "docker") return { kind: "docker" };
  if (value === "none") return { kind: "none" };
  if (value.startsWith("oci:") && value.length > 4) return { kind: "oci", path: resolve(value.slice(4)) };
  if (value.startsWith("registry:") && value.length > 9) {
    const prefix = value.slice(9).replace(/\/+$/, "");
    if (/[@\s]/.test(prefix)) throw new ConnectorBuildError("USAGE", `--output ${value}: expected registry:<registry>[/<namespace>], e.g. registry:127.0.0.1:5000`);
    return { kind: "registry", prefix };
  }
  throw new ConnectorBuildError("USAGE", `--output '${value}': expected docker, oci:<file>, registry:<registry>[/<namespace>] or none`);
}
