// Test helper: two small connector-like images built from the fixture root image, differing in
// every aspect compareImages looks at (see DIFFERENCES_A_TO_B), for the compare and image analysis tests.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { docker } from "../../src/engines/docker/docker-client.ts";
import { DockerEngine } from "../../src/engines/docker/docker-engine.ts";
import type { BuiltImage } from "../../src/engines/engine.ts";
import { fixtureRoot, uniqueTag } from "../helpers.ts";

/** Prints a SPEC message (keys in the order given) and exits; anything else exits 1. */
function mainPy(spec: string): string {
  return [
    "import sys",
    "if sys.argv[1:] == ['spec']:",
    "    print('{\"type\": \"LOG\", \"log\": {\"level\": \"INFO\", \"message\": \"starting\"}}')",
    `    print(${JSON.stringify(spec)})`,
    "    sys.exit(0)",
    "print('unknown command', sys.argv[1:], file=sys.stderr)",
    "sys.exit(1)",
    "",
  ].join("\n");
}

export const SPEC_A = {
  type: "SPEC",
  spec: {
    documentationUrl: "https://example.com/a",
    connectionSpecification: { type: "object", required: ["api_key"], properties: { api_key: { type: "string", airbyte_secret: true } } },
  },
};

// Same as SPEC_A except: documentationUrl changed, start_date added (property and required entry).
// Written with keys in another order: key order must not count.
const SPEC_B_TEXT =
  '{"spec": {"connectionSpecification": {"properties": {"start_date": {"type": "string"}, "api_key": {"airbyte_secret": true, "type": "string"}}, "required": ["api_key", "start_date"], "type": "object"}, "documentationUrl": "https://example.com/b"}, "type": "SPEC"}';

const MAKE_DEB = `#!/bin/sh
# make-deb <name> <version>: builds and installs an empty Debian package (no network needed).
set -eu
dir="$(mktemp -d)"
mkdir -p "$dir/pkg/DEBIAN"
printf 'Package: %s\\nVersion: %s\\nArchitecture: all\\nMaintainer: airbyte-ci tests <tests@example.com>\\nDescription: fake package for image comparison tests\\n' "$1" "$2" > "$dir/pkg/DEBIAN/control"
dpkg-deb --build "$dir/pkg" "$dir/$1.deb" >/dev/null
dpkg -i "$dir/$1.deb" >/dev/null
rm -rf "$dir"
`;

// \`python --version\` through this wrapper (first on PATH) reports another version.
const PYTHON_WRAPPER = `#!/bin/sh
if [ "$#" -eq 1 ] && [ "$1" = "--version" ]; then echo "Python 3.11.99"; exit 0; fi
exec /usr/bin/python3 "$@"
`;

function writeDist(context: string, dir: string, name: string, version: string, module: string): void {
  mkdirSync(join(context, "dists", dir), { recursive: true });
  writeFileSync(join(context, "dists", dir, "setup.py"), `from setuptools import setup\nsetup(name=${JSON.stringify(name)}, version=${JSON.stringify(version)}, py_modules=[${JSON.stringify(module)}])\n`);
  writeFileSync(join(context, "dists", dir, `${module}.py`), `VERSION = ${JSON.stringify(version)}\n`);
}

function pipInstall(...dirs: string[]): string[] {
  return ["python", "-m", "pip", "install", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "--quiet", ...dirs.map((d) => `/tmp/dists/${d}`)];
}

/** The test images: A, B, and the tag A is also known by. */
export interface CompareFixtures {
  readonly engine: DockerEngine;
  /** The fixture root image's address (`127.0.0.1:5000/python:3.11-bookworm@sha256:…`). */
  readonly rootAddress: string;
  /** `127.0.0.1:5000/python@sha256:…`: the root by repository and digest only. */
  readonly rootByDigest: string;
  readonly a: BuiltImage;
  readonly b: BuiltImage;
  /** A local tag of A: `airbyte-ci-compare-test/source-a:<unique>`. */
  readonly tagA: string;
  /** Removes the tag it created. */
  cleanup(): Promise<void>;
}

/** The expected differences from A to B, per aspect (added = only in B, removed = only in A). */
export const DIFFERENCES_A_TO_B = {
  env: {
    added: { ONLY_B: "a=b=c" },
    removed: { ONLY_A: "x" },
    changed: {
      AIRBYTE_ENTRYPOINT: { a: "python /airbyte/integration_code/main.py", b: "python /airbyte/code/main_dev.py" },
      CHANGED: { a: "one", b: "two" },
    },
  },
  entrypoint: { a: ["python", "/airbyte/integration_code/main.py"], b: ["python", "/airbyte/code/main_dev.py"] },
  // Setting an entrypoint drops the cmd inherited from the root image (["python3"]).
  cmd: { a: [], b: ["spec"] },
  workdir: { a: "/airbyte/integration_code", b: "/airbyte/code" },
  user: { a: "", b: "nobody" },
  labels: { added: { "only.b": "yes" }, removed: { "only.a": "yes" }, changed: { "io.airbyte.version": { a: "1.0.0", b: "1.0.1" } } },
  python: { a: "3.11.2", b: "3.11.99" },
  pip: { a: "23.0.1", b: "23.0.1.post1" },
  systemPackages: {
    added: { "airbyte-fake-tool": "1.2.3" },
    removed: { "airbyte-fake-legacy": "0.1.0" },
    changed: { "airbyte-fake-common": { a: "1.0.0", b: "2.0.0" } },
  },
  pythonDistributions: { added: { "airbyte-extra": "1.0.0" }, removed: {}, changed: { "airbyte-tiny": { a: "0.1.0", b: "0.2.0" } } },
  spec: [
    { path: "/spec/connectionSpecification/properties/start_date", kind: "added", b: { type: "string" } },
    { path: "/spec/connectionSpecification/required/1", kind: "added", b: "start_date" },
    { path: "/spec/documentationUrl", kind: "changed", a: "https://example.com/a", b: "https://example.com/b" },
  ],
} as const;

let built: Promise<CompareFixtures> | undefined;

/** Builds (once per test file) the two images on the local Docker. */
export function compareFixtures(): Promise<CompareFixtures> {
  built ??= build();
  return built;
}

async function build(): Promise<CompareFixtures> {
  const engine = new DockerEngine();
  const root = fixtureRoot("amd64");
  const context = mkdtempSync(join(tmpdir(), "compare-images-test-"));
  writeFileSync(join(context, "make-deb.sh"), MAKE_DEB);
  writeFileSync(join(context, "python-wrapper.sh"), PYTHON_WRAPPER);
  writeFileSync(join(context, "main.py"), mainPy(JSON.stringify(SPEC_A)));
  writeFileSync(join(context, "main_dev.py"), mainPy(SPEC_B_TEXT));
  writeDist(context, "tiny-0.1.0", "airbyte-tiny", "0.1.0", "airbyte_tiny");
  writeDist(context, "tiny-0.2.0", "airbyte-tiny", "0.2.0", "airbyte_tiny");
  writeDist(context, "extra", "Airbyte_Extra", "1.0.0", "airbyte_extra");

  const common = (workdir: string) =>
    ImageRecipe.empty()
      .from(root.address)
      .withWorkdir(workdir)
      .withFile("/usr/local/bin/make-deb", "make-deb.sh", { permissions: 0o755 })
      .withDirectory("/tmp/dists", "dists")
      .withEnvVariable("SHARED", "same");
  const recipeA = common("/airbyte/integration_code")
    .withExec(["make-deb", "airbyte-fake-common", "1.0.0"])
    .withExec(["make-deb", "airbyte-fake-legacy", "0.1.0"])
    .withExec(pipInstall("tiny-0.1.0"))
    .withFile("/airbyte/integration_code/main.py", "main.py")
    .withEnvVariable("CHANGED", "one")
    .withEnvVariable("ONLY_A", "x")
    .withEnvVariable("AIRBYTE_ENTRYPOINT", "python /airbyte/integration_code/main.py")
    .withLabel("io.airbyte.name", "airbyte/source-compare-test")
    .withLabel("io.airbyte.version", "1.0.0")
    .withLabel("only.a", "yes")
    .withEntrypoint(["python", "/airbyte/integration_code/main.py"]);
  const recipeB = common("/airbyte/code")
    .withExec(["make-deb", "airbyte-fake-common", "2.0.0"])
    .withExec(["make-deb", "airbyte-fake-tool", "1.2.3"])
    .withExec(pipInstall("tiny-0.2.0", "extra"))
    .withExec(["sed", "-i", 's/^__version__ = .*/__version__ = "23.0.1.post1"/', "/usr/lib/python3/dist-packages/pip/__init__.py"])
    .withFile("/usr/local/bin/python", "python-wrapper.sh", { permissions: 0o755 })
    .withFile("/airbyte/code/main_dev.py", "main_dev.py")
    .withEnvVariable("CHANGED", "two")
    .withEnvVariable("ONLY_B", "a=b=c")
    .withEnvVariable("AIRBYTE_ENTRYPOINT", "python /airbyte/code/main_dev.py")
    .withLabel("io.airbyte.name", "airbyte/source-compare-test")
    .withLabel("io.airbyte.version", "1.0.1")
    .withLabel("only.b", "yes")
    .withEntrypoint(["python", "/airbyte/code/main_dev.py"])
    .withDefaultArgs(["spec"])
    .withUser("nobody");
  const [a, b] = await Promise.all([
    engine.build({ recipe: recipeA, platform: "linux/amd64", contextDir: context }),
    engine.build({ recipe: recipeB, platform: "linux/amd64", contextDir: context }),
  ]);
  const tagA = `airbyte-ci-compare-test/source-a:${uniqueTag()}`;
  const tagged = await docker(["tag", a.ref, tagA]);
  if (tagged.exitCode !== 0) throw new Error(`docker tag failed: ${tagged.stderr}`);
  return {
    engine,
    rootAddress: root.address,
    rootByDigest: `${root.address.replace(/:[^/:@]+@.*$/, "")}@${root.digest}`,
    a,
    b,
    tagA,
    async cleanup() {
      await docker(["rmi", tagA]);
    },
  };
}
