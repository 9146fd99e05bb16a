import type { Platform } from "@airbyte-ci/base-images";
import type { BuiltImage, Engine, ResolvedImage } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";

/** An image to probe: a reference the engine resolves, an image an engine built, or one already resolved. */
export type ImageInput = string | BuiltImage | ResolvedImage;

/** How references are resolved. */
export interface ResolveOptions {
  /** Platform pulled when the engine does not hold the image. Default `linux/amd64`. */
  readonly pullPlatform?: Platform;
}

/** Resolves an {@link ImageInput}: references are resolved by the engine ({@link Engine.resolveImage}), on any engine. */
export async function resolveImageInput(engine: Engine, input: ImageInput, options: ResolveOptions = {}): Promise<ResolvedImage> {
  if (typeof input !== "string") {
    if ("image" in input) return input;
    return { reference: input.ref, id: input.ref, image: input };
  }
  // A reference reaches engine command lines: one starting with '-' would be read as an option (`--help`).
  if (input.startsWith("-") || /[\s\0]/.test(input.trim()) || input.trim() === "") {
    throw new ConnectorBuildError("USAGE", `image reference ${JSON.stringify(input.slice(0, 200))}: expected repo:tag, registry/repo@sha256:… or an image id (not an option, no whitespace)`);
  }
  return engine.resolveImage(input, options.pullPlatform ? { platform: options.pullPlatform } : {});
}
