/**
 * Images that already answered `spec`, remembered by content: a Docker image id is the digest of
 * the image's config, which names every layer by digest, so the same id is the same image, byte for
 * byte, and `spec` cannot answer differently. A rebuild whose every step was cached gives the same id
 * and is not verified again (a container start saved per connector and platform); any change to the
 * recipe, the code or the base gives a new id and runs `spec`. Only content-addressed ids are
 * remembered (`sha256:` + 64 hex digits); one empty file per image, so concurrent builds never
 * contend on a shared file.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The default folder: `$XDG_CACHE_HOME/airbyte-ci/spec-verified`, else `~/.cache/airbyte-ci/spec-verified`. */
export function defaultSpecCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airbyte-ci", "spec-verified");
}

/** Images known to answer `spec`, by engine and image id. */
export class SpecCache {
  constructor(private readonly dir: string = defaultSpecCacheDir()) {}

  private file(engine: string, imageId: string): string | undefined {
    const m = /^sha256:([0-9a-f]{64})$/.exec(imageId);
    return m && /^[a-z]+$/.test(engine) ? join(this.dir, `${engine}-${m[1]}`) : undefined;
  }

  /** True when this image answered `spec` before. */
  has(engine: string, imageId: string): boolean {
    const file = this.file(engine, imageId);
    return file !== undefined && existsSync(file);
  }

  /** Remembers that this image answered `spec`; a cache that cannot be written is not an error (the next build verifies again). */
  add(engine: string, imageId: string): void {
    const file = this.file(engine, imageId);
    if (file === undefined) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(file, "");
    } catch {
      // Read-only home, full disk: only the saving is lost.
    }
  }
}
