import type { Platform } from "@airbyte-ci/base-images";
import type { BuiltImage, Engine, ResolvedImage } from "../engines/engine.ts";

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
  return engine.resolveImage(input, options.pullPlatform ? { platform: options.pullPlatform } : {});
}
