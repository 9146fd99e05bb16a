import { ImageRecipe } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { daggerCallsFor } from "../engines/dagger/lowering.ts";
import { renderDockerfile } from "../dockerfile/render.ts";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../shared/process.ts";
import { CA_BUNDLE_VARIABLE, PIP_INDEX_SECRETS, parsePipIndexOptions, pipIndexSecrets, redactUrl, withCaBundle, withPipIndex } from "./pip-index.ts";

const FROM = `127.0.0.1:5000/airbyte/python-connector-base:1.1.0@sha256:${"a".repeat(64)}`;
const URL_WITH_PASSWORD = "http://user:s3cret@127.0.0.1:3141/root/pypi/+simple/";

describe("pip index settings", () => {
  it("validates URLs and never repeats a password in an error", () => {
    expect(() => parsePipIndexOptions({ indexUrl: "ftp://user:s3cret@host/simple" })).toThrowError(/--pip-index-url 'ftp:\/\/user:\*\*\*\*@host\/simple': expected an http:\/\/ or https:\/\/ URL/);
    expect(() => parsePipIndexOptions({ indexUrl: "not a url s3cret" })).toThrowError(/is not a URL/);
    let refused: unknown;
    try {
      parsePipIndexOptions({ extraIndexUrls: ["file://user:s3cret@x/"] });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: "USAGE", message: expect.stringMatching(/^--pip-extra-index-url 'file:\/\/\*\*\*\*@x\/' is not a URL/) });
    expect((refused as Error).message).not.toContain("s3cret");
    expect(redactUrl(URL_WITH_PASSWORD)).toBe("http://user:****@127.0.0.1:3141/root/pypi/+simple/");
    expect(redactUrl("https://token@example.com/simple")).toBe("https://****@example.com/simple");
  });

  it("splits space-separated extra URLs and drops empty values", () => {
    expect(parsePipIndexOptions({ indexUrl: " ", extraIndexUrls: ["https://a.example/simple https://b.example/simple", ""] })).toEqual({
      extraIndexUrls: ["https://a.example/simple", "https://b.example/simple"],
    });
    expect(parsePipIndexOptions({})).toEqual({});
  });

  it("makes the secrets pip reads, trusting plain-http hosts only", () => {
    expect(pipIndexSecrets({ indexUrl: URL_WITH_PASSWORD, extraIndexUrls: ["https://pypi.org/simple", "http://10.0.0.1/simple"] })).toEqual({
      [PIP_INDEX_SECRETS.indexUrl]: URL_WITH_PASSWORD,
      [PIP_INDEX_SECRETS.extraIndexUrl]: "https://pypi.org/simple http://10.0.0.1/simple",
      [PIP_INDEX_SECRETS.trustedHost]: "127.0.0.1:3141 10.0.0.1",
    });
    expect(pipIndexSecrets({ indexUrl: "https://pypi.org/simple" })).toEqual({ [PIP_INDEX_SECRETS.indexUrl]: "https://pypi.org/simple" });
    expect(pipIndexSecrets(undefined)).toEqual({});
  });

  it("exposes them to every RUN after FROM as secret variables: the Dockerfile and the Dagger calls name them, never their values", () => {
    const recipe = ImageRecipe.empty().from(FROM).withExec(["python", "-m", "pip", "install", "six"]).withLabel("a", "b");
    expect(withPipIndex(recipe, {})).toBe(recipe);
    const withIndex = withPipIndex(recipe, { indexUrl: URL_WITH_PASSWORD });
    expect(withIndex.operations.map((o) => o.op)).toEqual(["from", "withSecretVariable", "withSecretVariable", "withExec", "withLabel"]);
    const rendered = renderDockerfile(withIndex);
    expect(rendered.secrets).toEqual([PIP_INDEX_SECRETS.indexUrl, PIP_INDEX_SECRETS.trustedHost]);
    expect(rendered.dockerfile).toContain("--mount=type=secret,id=pip-index-url,target=/run/secrets/pip-index-url,required=true");
    expect(rendered.dockerfile).toContain('PIP_INDEX_URL=\\"$(cat /run/secrets/pip-index-url)\\"; export PIP_INDEX_URL;');
    const calls = JSON.stringify(daggerCallsFor(withIndex, "linux/amd64"));
    for (const text of [rendered.dockerfile, calls]) {
      expect(text).not.toContain("s3cret");
      expect(text).not.toContain("127.0.0.1:3141");
    }
  });
});

describe("--ca-bundle", () => {
  const pem = (() => {
    const text = readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8");
    return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(text)?.[0] as string;
  })();
  const file = join(mkdtempSync(join(tmpdir(), "ca-")), "proxy-ca.pem");
  writeFileSync(file, pem);

  it("checks the file (exists, at most 64 KiB, PEM certificates) before any work", () => {
    expect(() => parsePipIndexOptions({ caBundle: "/nonexistent/ca.pem" })).toThrowError(expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/--ca-bundle \/nonexistent\/ca.pem is not a file/) }));
    const notPem = join(mkdtempSync(join(tmpdir(), "ca-")), "x.pem");
    writeFileSync(notPem, "hello");
    expect(() => parsePipIndexOptions({ caBundle: notPem })).toThrowError(/holds no PEM certificate/);
    expect(() => parsePipIndexOptions({ caBundle: "/etc/ssl/certs/ca-certificates.crt" })).toThrowError(/bytes: expected at most 65536/);
    expect(parsePipIndexOptions({ caBundle: file })).toEqual({ caBundle: file });
  });

  it("reaches the build only as a secret variable after each FROM", () => {
    const secrets = pipIndexSecrets({ caBundle: file });
    expect(secrets).toEqual({ [PIP_INDEX_SECRETS.caBundle]: pem });
    const recipe = withPipIndex(ImageRecipe.empty().from(FROM).withExec(["pip", "install", "."]), { caBundle: file });
    expect(recipe.operations[1]).toEqual({ op: "withSecretVariable", name: CA_BUNDLE_VARIABLE, secret: PIP_INDEX_SECRETS.caBundle });
    expect(JSON.stringify(recipe.operations)).not.toContain("BEGIN CERTIFICATE");
  });

  it("withCaBundle: the command trusts the image's roots plus the bundle, through a file removed afterwards", async () => {
    const command = withCaBundle(["sh", "-c", 'echo "$SSL_CERT_FILE $PIP_CERT"; grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"; grep -c "$1" "$SSL_CERT_FILE"', "sh", pem.split("\n")[1] as string]);
    const run = await runProcess(command[0] as string, command.slice(1), { env: { ...process.env, [CA_BUNDLE_VARIABLE]: pem } });
    expect(run.exitCode, run.stderr).toBe(0);
    const [paths, certs, ours] = run.stdout.trim().split("\n");
    const [path, pipCert] = (paths as string).split(" ");
    expect(pipCert).toBe(path);
    expect(Number(certs)).toBeGreaterThan(1); // the roots, and ours
    expect(Number(ours)).toBeGreaterThanOrEqual(1);
    expect(existsSync(path as string)).toBe(false);
    // Without the variable, the command runs as it is.
    const plain = await runProcess(command[0] as string, [...command.slice(1, 4), "true"], { env: { ...process.env, [CA_BUNDLE_VARIABLE]: "" } });
    expect(plain.exitCode).toBe(0);
  });
});
