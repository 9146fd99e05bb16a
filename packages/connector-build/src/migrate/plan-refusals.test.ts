// migrate plans only what it understands: each Dockerfile shape below was planned as safe while its
// meaning was lost; each is now expressed exactly or refused with its line. No engine is needed.
import { mkdtempSync, cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCatalog } from "@airbyte-ci/base-images";
import { exitCodeFor } from "../errors.ts";
import { planDockerfile } from "./plan-dockerfile.ts";
import { migrateConnector } from "./migrate.ts";

const HEAD = ["FROM python:3.9-slim", "WORKDIR /airbyte/integration_code", "RUN pip install ."];
const TAIL = ['ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"', 'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]', "LABEL io.airbyte.version=0.1.0", "LABEL io.airbyte.name=airbyte/source-x"];
const plan = (lines: string[]) => planDockerfile(`${lines.join("\n")}\n`, "source-x");

describe("each shape is refused with its line", () => {
  it.each([
    ["ENV PATH=/opt/tool/bin:$PATH", [...HEAD, "ENV PATH=/opt/tool/bin:$PATH", ...TAIL], /^line 4 'ENV PATH=\/opt\/tool\/bin:\$PATH': PATH=\/opt\/tool\/bin:\$PATH refers to a variable/],
    ["ENV with ${HOME}", [...HEAD, "ENV CONFIG_DIR=${HOME}/.config", ...TAIL], /^line 4 'ENV CONFIG_DIR=\$\{HOME\}\/\.config': CONFIG_DIR=\$\{HOME\}\/\.config refers to a variable/],
    ["COPY --from=<external image>", [...HEAD, "COPY --from=evilcorp/tools:latest /install /usr/local", ...TAIL], /^line 4 'COPY --from=evilcorp\/tools:latest \/install \/usr\/local': copies \/install from the image evilcorp\/tools:latest, not from a stage/],
    ["COPY --chown", [...HEAD, "COPY --chown=airbyte:airbyte main.py ./", ...TAIL], /^line 4 'COPY --chown=airbyte:airbyte main\.py \.\/': --chown=airbyte:airbyte: the common build copies files as they are/],
    ["a second label", [...HEAD, ...TAIL.slice(0, 2), "LABEL io.airbyte.version=0.1.0 com.example.team=payments"], /^line 6 'LABEL io\.airbyte\.version=0\.1\.0 com\.example\.team=payments': label com\.example\.team=payments is not set/],
    ["evilcorp/python", ["FROM evilcorp/python:3.9-alpine", ...HEAD.slice(1), ...TAIL], /^line 1 'FROM evilcorp\/python:3\.9-alpine': a non-python base image/],
    ["WORKDIR $WORKDIR without ENV WORKDIR", ["FROM python:3.9-slim", "WORKDIR $WORKDIR", "RUN pip install .", ...TAIL], /^line 2 'WORKDIR \$WORKDIR': workdir \$WORKDIR \(a variable this stage does not set\) differs/],
    ["WORKDIR $WORKDIR set elsewhere", ["FROM python:3.9-slim", "ENV WORKDIR=/opt/app", "WORKDIR $WORKDIR", "RUN pip install .", ...TAIL], /^line 3 'WORKDIR \$WORKDIR': workdir \$WORKDIR \(\$WORKDIR is \/opt\/app\) differs/],
  ])("%s", (_name, lines, reason) => {
    expect(plan(lines).refusals).toContainEqual(expect.stringMatching(reason));
  });

  it("an extra pip install in a builder stage (its result reaches the image through COPY --from)", () => {
    const p = plan([
      "FROM python:3.9-slim as builder",
      "WORKDIR /airbyte/integration_code",
      "RUN pip install --prefix=/install . && pip install --prefix=/install requests-mock",
      "FROM python:3.9-slim",
      "WORKDIR /airbyte/integration_code",
      "COPY --from=builder /install /usr/local",
      ...TAIL,
    ]);
    expect(p.refusals).toEqual([expect.stringMatching(/^line 3 '.*': stage 'builder' runs 'pip install --prefix=\/install requests-mock': its result reaches the image through COPY --from/)]);
  });
});

describe("what is understood stays planned", () => {
  it("docker.io/library/python, a multi-label LABEL of the Airbyte labels, WORKDIR $WORKDIR after ENV WORKDIR=/airbyte/integration_code", () => {
    const p = plan([
      "FROM docker.io/library/python:3.9-slim",
      "ENV WORKDIR=/airbyte/integration_code",
      "WORKDIR $WORKDIR",
      "RUN pip install .",
      'ENV AIRBYTE_ENTRYPOINT "python /airbyte/integration_code/main.py"',
      'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
      'LABEL io.airbyte.version=0.1.0 io.airbyte.name="airbyte/source-x"',
    ]);
    expect(p.refusals).toEqual([]);
  });
});

const D = `sha256:${"c".repeat(64)}`;
const catalog = parseCatalog({
  name: "test",
  repository: "127.0.0.1:5000/airbyte/python-connector-base",
  versions: [{ version: "1.0.0", changelog: "a", rootImages: { "linux/amd64": `127.0.0.1:5000/python:3.11-bookworm@${D}` }, recipe: [], sanityChecks: [], published: { digest: D } }],
});

function connector(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), "migrate-refusals-"));
  const dir = join(root, "source-fleet-twilio");
  cpSync(join(import.meta.dirname, "../../test/__fixtures__/fleet/source-fleet-twilio"), dir, { recursive: true });
  return { root, dir };
}

async function refusal(dir: string, root: string): Promise<{ message: string; exit: number }> {
  const error = await migrateConnector(dir, catalog, { dryRun: false, patchRoot: root }).then(
    () => new Error("expected a refusal"),
    (e: unknown) => e as Error,
  );
  return { message: error.message, exit: exitCodeFor(error) };
}

describe("files a migration cannot work on safely", () => {
  it("metadata.yaml linked to a file outside the tree: refused, the linked file unchanged", async () => {
    const { root, dir } = connector();
    const outside = join(mkdtempSync(join(tmpdir(), "outside-")), "metadata.yaml");
    cpSync(join(dir, "metadata.yaml"), outside);
    rmSync(join(dir, "metadata.yaml"));
    symlinkSync(outside, join(dir, "metadata.yaml"));
    const before = readFileSync(outside, "utf8");
    const r = await refusal(dir, root);
    expect(r.exit).toBe(2);
    expect(r.message).toMatch(/metadata\.yaml is a symbolic link to .*outside-.*\/metadata\.yaml, outside .*: a migration would change that file while its patch names this one/);
    expect(readFileSync(outside, "utf8")).toBe(before);
    expect(existsSync(join(dir, "Dockerfile"))).toBe(true);
  });

  it("a binary Dockerfile: one line saying so, not its bytes", async () => {
    const { root, dir } = connector();
    writeFileSync(join(dir, "Dockerfile"), Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0x00, 0xff, 0xfe, 0x01, 0x02]));
    const r = await refusal(dir, root);
    expect(r.exit).toBe(2);
    expect(r.message).toMatch(/Dockerfile is not a text file \(a NUL byte at byte 4\): expected a Dockerfile to migrate$/);
  });

  it("a Dockerfile link loop is reported as one, not as 'already on the common build'", async () => {
    const { root, dir } = connector();
    rmSync(join(dir, "Dockerfile"));
    symlinkSync("Dockerfile", join(dir, "Dockerfile"));
    const r = await refusal(dir, root);
    expect(r.exit).toBe(2);
    expect(r.message).toMatch(/Dockerfile is a symbolic link loop: expected a Dockerfile \(a text file\) to migrate/);
    expect(r.message).not.toMatch(/already on the common build/);
  });
});
