import type { ImageRecipe } from "./recipe.ts";
import type { SanityCheck } from "./sanity-check.ts";

/** The account a base image runs connectors as (from 2.0.0): created by the base recipe, its `USER`. */
export interface RuntimeUser {
  /** User and group name, e.g. `airbyte`. */
  name: string;
  /** Numeric user id (also the group id), e.g. 1000. */
  uid: number;
  /** Home directory, created and owned by the user, e.g. `/home/airbyte`. */
  home: string;
}

/** The runtime user of base image 2.0.0, as Airbyte's own non-root bases have it: `airbyte`, uid/gid 1000. */
export const AIRBYTE_RUNTIME_USER: RuntimeUser = { name: "airbyte", uid: 1000, home: "/home/airbyte" };

/** Where connector code lives in a connector image: created by a non-root base, readable by its user. */
const CONNECTOR_CODE_PARENT = "/airbyte";

/**
 * The recipe fragment that makes a base image run as `user`: a system group and user with that id
 * and a home directory, HOME pointing at it (root images declare HOME=/root, which a non-root user
 * cannot write), /tmp writable by everyone (sticky), the connector code directory's parent readable,
 * and `USER` last so every later step and the image run as the user.
 */
export function withRuntimeUser(recipe: ImageRecipe, user: RuntimeUser): ImageRecipe {
  const id = String(user.uid);
  return recipe
    .withExec(["groupadd", "--system", "--gid", id, user.name])
    .withExec(["useradd", "--system", "--uid", id, "--gid", id, "--home-dir", user.home, "--create-home", "--shell", "/bin/bash", user.name])
    .withExec(["chmod", "1777", "/tmp"])
    .withExec(["mkdir", "-p", `${CONNECTOR_CODE_PARENT}/integration_code`])
    .withExec(["chmod", "0755", CONNECTOR_CODE_PARENT, `${CONNECTOR_CODE_PARENT}/integration_code`])
    .withEnvVariable("HOME", user.home);
}

/** The checks of a non-root base image, run as the image's user (the engine runs checks with the image's `USER`). */
export function runtimeUserChecks(user: RuntimeUser): SanityCheck[] {
  const id = String(user.uid);
  const home = user.home.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [
    { kind: "command", name: `runs as ${user.name}`, argv: ["id", "-un"], expect: { stdout: user.name } },
    { kind: "command", name: `uid is ${id}`, argv: ["id", "-u"], expect: { stdout: id } },
    { kind: "command", name: `gid is ${id}`, argv: ["id", "-g"], expect: { stdout: id } },
    {
      kind: "command",
      name: `${user.name}'s home is ${user.home}`,
      argv: ["getent", "passwd", user.name],
      expect: { stdoutMatches: `^${user.name}:[^:]*:${id}:${id}:[^:]*:${home}:` },
    },
    {
      kind: "command",
      name: `${user.name} can write its home`,
      argv: ["sh", "-c", 'probe="$HOME/.write-probe" && touch "$probe" && rm "$probe" && echo "$HOME"'],
      expect: { stdout: user.home },
    },
    {
      kind: "command",
      name: `${user.name} can write the temp directory`,
      argv: ["python", "-c", "import os, tempfile\nwith tempfile.NamedTemporaryFile() as f: print(os.path.dirname(f.name))"],
      expect: { stdout: "/tmp" },
    },
    {
      kind: "command",
      name: `the connector code directory is readable by ${user.name}`,
      argv: ["sh", "-c", `test -r ${CONNECTOR_CODE_PARENT}/integration_code && test -x ${CONNECTOR_CODE_PARENT}/integration_code && echo ok`],
      expect: { stdout: "ok" },
    },
    {
      kind: "command",
      name: `Python imports its packages as ${user.name}`,
      argv: [
        "python",
        "-c",
        "import importlib, importlib.metadata as m\nfor d in m.distributions(): d.read_text('METADATA')\nfor name in ('pip', 'ssl', 'sqlite3', 'zoneinfo', 'json'): importlib.import_module(name)\nprint('ok')",
      ],
      expect: { stdout: "ok" },
    },
  ];
}

/** Who an image built from `recipe` runs as: its last `withUser` (`root` when it sets none), and its last HOME. */
export function recipeRuntimeUser(recipe: ImageRecipe): { user: string; home: string | undefined } {
  let user = "root";
  let home: string | undefined;
  for (const op of recipe.operations) {
    if (op.op === "withUser") user = op.name;
    else if (op.op === "withEnvVariable" && op.name === "HOME") home = op.value;
  }
  return { user, home };
}

/** True when `user` (a name, `uid` or `uid:gid`) is the superuser. */
export function isRootUser(user: string): boolean {
  const name = user.split(":")[0] ?? "";
  return name === "" || name === "root" || name === "0";
}
