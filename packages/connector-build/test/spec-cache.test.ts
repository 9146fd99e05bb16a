// An identical rebuild (the same Docker image id: the same config and layers, byte for byte) is not
// verified again; a changed connector is; `specCache: false` verifies every build (real Docker).
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { localCatalog, stageExample, uniqueTag } from "./helpers.ts";

describe("spec verification of identical rebuilds", () => {
  it("runs spec for a new image, not for the same image id again, and again for a changed connector or with specCache false", async () => {
    const dir = await stageExample("source-hello", { tag: uniqueTag() });
    // A change only this test makes, so the first image id is new to every spec cache.
    appendFileSync(join(dir, "main.py"), `\n# ${Date.now()}\n`);
    const specCache = mkdtempSync(join(tmpdir(), "spec-cache-"));
    const build = async (extra: { specCache?: string | false } = { specCache }) =>
      (await buildConnectors([dir], { engine: new DockerEngine(), catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "none" }, ...extra }))[0];
    const first = await build();
    expect(first?.platforms[0]?.verification.detail).toBe("spec answered with a SPEC message");
    const second = await build();
    expect(second?.platforms[0]?.imageId).toBe(first?.platforms[0]?.imageId);
    expect(second?.platforms[0]?.verification).toEqual({ spec: true, detail: `spec answered before for this very image (${first?.platforms[0]?.imageId}): not run again` });
    expect((await build({ specCache: false }))?.platforms[0]?.verification.detail).toBe("spec answered with a SPEC message");
    appendFileSync(join(dir, "main.py"), "# changed\n");
    const changed = await build();
    expect(changed?.platforms[0]?.imageId).not.toBe(first?.platforms[0]?.imageId);
    expect(changed?.platforms[0]?.verification.detail).toBe("spec answered with a SPEC message");
  }, 600_000);
});
