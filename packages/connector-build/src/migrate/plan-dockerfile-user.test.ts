// USER instructions in a migrated Dockerfile (issue 23): the common build installs as root and runs
// the connector as the base's user, so a Dockerfile's users are judged against the target base's.
import { describe, expect, it } from "vitest";
import { judgeComparison } from "./verify.ts";
import { planDockerfile } from "./plan-dockerfile.ts";

const dockerfile = (users: { middle?: string; last?: string } = {}) =>
  [
    "FROM python:3.9-slim",
    "WORKDIR /airbyte/integration_code",
    ...(users.middle ? [`USER ${users.middle}`] : []),
    "RUN apt-get update && apt-get upgrade -y",
    "COPY setup.py ./",
    "RUN pip install .",
    "COPY main.py ./",
    "COPY source_x ./source_x",
    ...(users.last ? [`USER ${users.last}`] : []),
    'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]',
  ].join("\n");
const ON_2_0_0 = { runtimeUser: "airbyte", baseVersion: "2.0.0" };
const ON_1_1_0 = { runtimeUser: "root", baseVersion: "1.1.0" };

describe("migrate: USER instructions", () => {
  it("USER root for the install steps and USER airbyte last are what the common build does on 2.0.0", () => {
    const plan = planDockerfile(dockerfile({ middle: "root", last: "airbyte" }), "source-x", ON_2_0_0);
    expect(plan.refusals).toEqual([]);
    expect(plan.covered.find((c) => c.text === "USER root")?.why).toBe("the common build runs install steps as root");
    expect(plan.covered.find((c) => c.text === "USER airbyte")?.why).toBe("base image 2.0.0 runs connectors as airbyte");
    expect(plan.expectedChanges.some((c) => c.startsWith("the connector runs as"))).toBe(false);
  });

  it("USER airbyte onto a root base (1.x) is refused at its line, naming the base and what to do", () => {
    const plan = planDockerfile(dockerfile({ last: "airbyte:airbyte" }), "source-x", ON_1_1_0);
    expect(plan.refusals).toEqual([
      "line 8 'USER airbyte:airbyte': the image runs as airbyte, but base image 1.1.0 runs connectors as root: migrate onto a base whose user is airbyte, or drop the instruction",
    ]);
  });

  it("a non-root user running install steps, or a last user other than the base's, is refused", () => {
    const plan = planDockerfile(dockerfile({ middle: "nobody", last: "root" }), "source-x", ON_2_0_0);
    expect(plan.refusals).toEqual([
      "line 3 'USER nobody': runs the following steps as nobody: the common build runs install steps as root (switch user in a hook with withUser)",
      "line 9 'USER root': the image runs as root, but base image 2.0.0 runs connectors as airbyte: migrate onto a base whose user is root (1.x), or drop the instruction",
    ]);
  });

  it("no USER onto 2.0.0: the user change is expected, and verification accepts the user and HOME differences", () => {
    const plan = planDockerfile(dockerfile(), "source-x", ON_2_0_0);
    expect(plan.refusals).toEqual([]);
    expect(plan.expectedChanges).toContain("the connector runs as airbyte instead of root: base image 2.0.0's user (files it writes must be under /tmp or its home)");
    const differences = [
      { aspect: "user", kind: "changed", a: "", b: "airbyte" },
      { aspect: "env", kind: "entries", added: {}, removed: {}, changed: { HOME: { a: "/root", b: "/home/airbyte" } } },
    ] as const;
    const comparison = { differences } as unknown as Parameters<typeof judgeComparison>[0];
    expect(judgeComparison(comparison, plan).map((d) => d.expected)).toEqual([true, true]);
    expect(judgeComparison(comparison, planDockerfile(dockerfile(), "source-x", ON_1_1_0)).map((d) => d.expected)).toEqual([false, false]);
    // Without a target (the default), the base is taken as root: no USER, no change.
    expect(planDockerfile(dockerfile(), "source-x").expectedChanges.some((c) => c.startsWith("the connector runs as"))).toBe(false);
  });
});
