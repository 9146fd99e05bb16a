import type { BuiltImage, PublishResult } from "./engine.ts";
import { ConnectorBuildError } from "../errors.ts";

/** Pushes per-platform images and assembles one multi-platform index (implemented with the registry client). */
export async function publishImages(_images: readonly BuiltImage[], reference: string): Promise<PublishResult> {
  throw new ConnectorBuildError("PUBLISH_FAILED", `publish to ${reference}: not wired yet`);
}
