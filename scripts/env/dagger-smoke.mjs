// Proves the local Dagger engine works with the repo's TypeScript SDK: pull the fixture root image from
// the local registry by digest, run it on linux/amd64 and linux/arm64, use a cache volume and a secret,
// and publish an image to the local registry.
//   eval "$(bash scripts/env/dagger-engine.sh)" && node scripts/env/dagger-smoke.mjs
// Exit 0 and one line per check on stdout when everything holds; exit 1 with the failing check otherwise.
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const sdkDir = join(root, "packages/connector-build/node_modules/@dagger.io/dagger");
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")).version;
const { connect } = await import(pathToFileURL(join(sdkDir, "dist/src/index.js")).href);

for (const name of ["_EXPERIMENTAL_DAGGER_RUNNER_HOST", "_EXPERIMENTAL_DAGGER_CLI_BIN"]) {
  if (!process.env[name]) {
    console.error(`dagger-smoke: ${name} is not set: run eval "$(bash scripts/env/dagger-engine.sh)" first`);
    process.exit(2);
  }
}
const fixture = (arch) => JSON.parse(readFileSync(join(root, `.local/fixture/root-${arch}.json`), "utf8")).address;
const tag = `127.0.0.1:5000/dagger-smoke:test`;
const secretValue = `s3cret-${process.pid}-${Date.now()}`;

const started = Date.now();
const timed = async (label, fn) => {
  const t = Date.now();
  const detail = await fn();
  console.log(`ok ${label}: ${detail} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
};
const expect = (cond, message) => {
  if (!cond) throw new Error(message);
};

await connect(
  async (client) => {
    await timed("engine version", async () => {
      const v = await client.version();
      return `engine ${v}, SDK ${sdkVersion}`;
    });

    for (const [platform, arch, machine] of [
      ["linux/amd64", "amd64", "x86_64"],
      ["linux/arm64", "arm64", "aarch64"],
    ]) {
      await timed(`from + withExec on ${platform}`, async () => {
        const ctr = client.container({ platform }).from(fixture(arch));
        const out = (await ctr.withExec(["python3", "--version"]).stdout()).trim();
        const uname = (await ctr.withExec(["uname", "-m"]).stdout()).trim();
        expect(/^Python 3\.11\.\d+$/.test(out), `python3 --version said '${out}'`);
        expect(uname === machine, `uname -m said '${uname}', expected ${machine}`);
        return `${out}, uname -m ${uname}`;
      });
    }

    await timed("container network (engine bridge, DNS, NAT)", async () => {
      // TCP only: containers do not trust this machine's egress proxy CA, so TLS is not checked here.
      const script =
        "import socket; a = socket.getaddrinfo('pypi.org', 443)[0][4][0]; " +
        "s = socket.create_connection(('pypi.org', 443), timeout=20); print(a, s.getsockname()[0])";
      const out = (await client.container().from(fixture("amd64")).withExec(["python3", "-c", script]).stdout()).trim();
      const [, local] = out.split(" ");
      expect(local && !local.startsWith("127."), `unexpected output '${out}'`);
      return `pypi.org:443 reached from ${local}`;
    });

    await timed("cache volume", async () => {
      const cache = client.cacheVolume(`dagger-smoke-${process.pid}-${Date.now()}`);
      const base = client.container().from(fixture("amd64")).withMountedCache("/cache", cache);
      await base.withExec(["sh", "-c", "echo first > /cache/marker"]).sync();
      const seen = (await base.withExec(["sh", "-c", "date +%N >/dev/null; cat /cache/marker"]).stdout()).trim();
      expect(seen === "first", `second container read '${seen}' from the cache volume`);
      return "a second container reads what the first wrote";
    });

    await timed("secret", async () => {
      const secret = client.setSecret("dagger-smoke-token", secretValue);
      const ctr = client
        .container()
        .from(fixture("amd64"))
        .withSecretVariable("SMOKE_TOKEN", secret)
        .withExec(["sh", "-c", 'test "$SMOKE_TOKEN" = "' + secretValue + '" && echo matches']);
      const out = (await ctr.stdout()).trim();
      expect(out === "matches", `the secret did not reach the command (said '${out}')`);
      const env = await ctr.envVariables();
      for (const e of env) {
        expect(!(await e.value()).includes(secretValue), `secret found in env ${await e.name()}`);
      }
      return "reaches the command, absent from the image config";
    });

    await timed(`publish ${tag}`, async () => {
      const variants = ["linux/amd64", "linux/arm64"].map((platform) =>
        client
          .container({ platform })
          .from(fixture(platform.split("/")[1]))
          .withNewFile("/smoke.txt", `dagger smoke ${platform}\n`)
          .withLabel("org.airbyte.dagger-smoke", "1"),
      );
      const ref = await client.container().publish(tag, { platformVariants: variants });
      expect(/@sha256:[0-9a-f]{64}$/.test(ref), `publish returned '${ref}'`);
      const res = await fetch(`http://127.0.0.1:5000/v2/dagger-smoke/manifests/${ref.split("@")[1]}`, {
        headers: { Accept: "application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json" },
      });
      expect(res.ok, `the registry does not have ${ref}: HTTP ${res.status}`);
      const index = await res.json();
      const platforms = (index.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort();
      expect(platforms.join(",") === "linux/amd64,linux/arm64", `index platforms: ${platforms.join(",")}`);
      return `${ref} (index of ${platforms.join(", ")})`;
    });
  },
  { LogOutput: process.env.DAGGER_SMOKE_VERBOSE ? process.stderr : undefined },
).catch((err) => {
  console.error(`dagger-smoke: FAILED: ${err?.message ?? err}`);
  process.exit(1);
});
console.log(`dagger-smoke: all checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
