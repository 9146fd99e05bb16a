// The common build on a non-root base (2.0.0): installs as root, ends as the base's user; hooks may
// run steps as root; a postConnectorInstall hook that sets a user explicitly keeps its choice. Pure
// recipe checks (the real build and run as uid 1000 are in test/non-root-base.test.ts).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCatalog, type BaseImageCatalog, type RecipeOperation } from "@airbyte-ci/base-images";
import { fixtureCatalog } from "../../../base-images/scripts/fixture-catalog.ts";
import { prepareConnector, pythonConnectorRecipe } from "./python-build.ts";
import { describeRuntimeUserChange } from "./runtime-user.ts";

const D = `sha256:${"c".repeat(64)}`;
const data = fixtureCatalog({
  roots: [{ platform: "linux/amd64", address: `127.0.0.1:5000/python:3.11-bookworm@${D}`, pythonVersion: "3.11.2", pipVersion: "23.0.1", setuptoolsVersion: "66.1.1" }],
});
/** Each version published under its own digest (a reference resolves by digest first). */
const digestOf = (version: string) => `sha256:${version.replaceAll(".", "").padEnd(64, "0")}`;
const catalog: BaseImageCatalog = parseCatalog({ ...data, versions: data.versions.map((v) => ({ ...v, published: { digest: digestOf(v.version) } })) });
const EXAMPLE = join(import.meta.dirname, "../../../../examples/source-hello");

/** source-hello on base `version` with an optional build_customization.ts, built into a recipe (no registry read: the published base is given). */
async function recipeOn(version: string, customization?: string): Promise<RecipeOperation[]> {
  const dir = join(mkdtempSync(join(tmpdir(), "runtime-user-")), "source-hello");
  cpSync(EXAMPLE, dir, { recursive: true });
  const address = `${catalog.repository}:${version}@${digestOf(version)}`;
  writeFileSync(join(dir, "metadata.yaml"), readFileSync(join(dir, "metadata.yaml"), "utf8").replace(/baseImage: .*/, `baseImage: ${address}`));
  if (customization) writeFileSync(join(dir, "build_customization.ts"), `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization(${customization});\n`);
  const publishedBase = { version, name: `${catalog.repository}:${version}`, address, digest: digestOf(version), platformDigests: { "linux/amd64": D } };
  return (await pythonConnectorRecipe({ ...(await prepareConnector(dir, catalog)), publishedBase }, "linux/amd64")).toJSON();
}
const users = (ops: RecipeOperation[]) => ops.flatMap((o) => (o.op === "withUser" ? [o.name] : []));
const homes = (ops: RecipeOperation[]) => ops.flatMap((o) => (o.op === "withEnvVariable" && o.name === "HOME" ? [o.value] : []));

describe("the common build on a non-root base", () => {
  it("on a root base (1.1.0) sets no user at all", async () => {
    const ops = await recipeOn("1.1.0");
    expect(users(ops)).toEqual([]);
    expect(homes(ops)).toEqual([]);
  });

  it("on 2.0.0 switches to root right after FROM and ends as airbyte with its HOME", async () => {
    const ops = await recipeOn("2.0.0");
    expect(ops[0]?.op).toBe("from");
    expect(ops.slice(1, 3)).toEqual([
      { op: "withUser", name: "root" },
      { op: "withEnvVariable", name: "HOME", value: "/root" },
    ]);
    expect(ops.slice(-2)).toEqual([
      { op: "withUser", name: "airbyte" },
      { op: "withEnvVariable", name: "HOME", value: "/home/airbyte" },
    ]);
    // The code is made readable by the user, as root, before the switch; every install step runs before it too.
    const chmod = ops.findIndex((o) => o.op === "withExec" && o.args[0] === "find" && o.args.includes("a+rX"));
    const install = ops.findIndex((o) => o.op === "withExec" && o.args.includes("install"));
    expect(install).toBeGreaterThan(2);
    expect(chmod).toBeGreaterThan(install);
    expect(chmod).toBe(ops.length - 3);
  });

  it("a hook running steps as root (explicitly in preConnectorInstall, implicitly in postConnectorInstall) still ends as airbyte", async () => {
    const ops = await recipeOn(
      "2.0.0",
      `{ preConnectorInstall: (r) => r.withUser("root").withExec(["touch", "/usr/local/pre"]), postConnectorInstall: (r) => r.withExec(["touch", "/usr/local/post"]) }`,
    );
    expect(users(ops)).toEqual(["root", "root", "airbyte"]);
    const post = ops.findIndex((o) => o.op === "withExec" && o.args.join(" ") === "touch /usr/local/post");
    expect(post).toBeGreaterThan(0);
    expect(ops.findIndex((o) => o.op === "withUser" && o.name === "airbyte")).toBeGreaterThan(post);
    expect(homes(ops).at(-1)).toBe("/home/airbyte");
  });

  it("a postConnectorInstall hook that sets the user explicitly keeps its choice", async () => {
    const root = await recipeOn("2.0.0", `{ postConnectorInstall: (r) => r.withUser("root").withExec(["true"]) }`);
    expect(users(root)).toEqual(["root", "root"]);
    expect(root.at(-1)).toEqual({ op: "withExec", args: ["true"] });
    const back = await recipeOn("2.0.0", `{ postConnectorInstall: (r) => r.withUser("root").withExec(["true"]).withUser("airbyte") }`);
    expect(users(back)).toEqual(["root", "root", "airbyte"]);
    expect(homes(back).at(-1)).toBe("/home/airbyte");
  });
});

describe("bump-base's note on the runtime user", () => {
  it("says what changes when crossing to 2.0.0, and nothing within a major", () => {
    expect(describeRuntimeUserChange(catalog.get("1.1.0"), catalog.get("2.0.0"))).toBe(
      "base 2.0.0 runs the connector as airbyte (base 1.1.0 ran it as root): the common build still installs as root, but at run time a connector that writes outside /tmp and /home/airbyte, or needs root, must change",
    );
    expect(describeRuntimeUserChange(undefined, catalog.get("2.0.0"))).toMatch(/^base 2\.0\.0 runs the connector as airbyte \(its current base is not in this catalog\)/);
    expect(describeRuntimeUserChange(catalog.get("1.0.0"), catalog.get("1.1.0"))).toBeUndefined();
    expect(describeRuntimeUserChange(undefined, catalog.get("1.1.0"))).toBeUndefined();
    expect(describeRuntimeUserChange(catalog.get("2.0.0"), catalog.get("1.1.0"))).toMatch(/runs the connector as root \(base 2\.0\.0 ran it as airbyte\): it runs as root again$/);
  });
});
