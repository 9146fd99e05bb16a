// A .dockerignore against the Docker engine: a recipe copies what it names regardless; a
// Dockerfile build that copies a hidden file fails naming the rule that hid it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { DockerEngine } from "./docker-engine.ts";
import { fixtureRoot } from "../../../test/helpers.ts";

const engine = new DockerEngine();

function whitelistContext(): string {
  const dir = mkdtempSync(join(tmpdir(), "dockerignore-"));
  writeFileSync(join(dir, ".dockerignore"), "# whitelist\n*\n!main.py\n");
  writeFileSync(join(dir, "main.py"), "print('hi')\n");
  writeFileSync(join(dir, "requirements.txt"), "-e .\n");
  return dir;
}

describe("a whitelist .dockerignore on the Docker engine", () => {
  it("does not hide what a recipe copies", async () => {
    const dir = whitelistContext();
    const recipe = ImageRecipe.empty().from(fixtureRoot("amd64").address).withFile("/app/requirements.txt", "requirements.txt").withFile("/app/main.py", "main.py");
    const image = await engine.build({ recipe, platform: "linux/amd64", contextDir: dir });
    const run = await engine.run(image, ["cat", "/app/requirements.txt"]);
    expect(run.stdout).toBe("-e .\n");
  }, 300_000);

  it("a Dockerfile build copying a hidden file fails naming the rule that hid it", async () => {
    const dir = whitelistContext();
    const error = await engine
      .buildDockerfile({ contextDir: dir, dockerfile: `FROM ${fixtureRoot("amd64").address}\nCOPY requirements.txt ./\n`, platform: "linux/amd64" })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/'requirements\.txt' is hidden from the build by .*\.dockerignore line 2 \('\*'\): add '!requirements\.txt' to it/);
  }, 300_000);
});
