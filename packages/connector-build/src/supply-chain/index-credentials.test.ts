// An index given with credentials (https://user:password@host/simple): Node's fetch refuses such a
// URL, so they are sent as an Authorization header, and no URL handed back carries them. The
// loopback PyPI proxy here accepts anyone: a small local server stands in for an index that checks
// Basic credentials (none runs here), so a wrong or missing header is seen as a 401.
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadArtifact, indexFiles } from "./python-index.ts";

const WHEEL = Buffer.from("not really a wheel");
const SHA = createHash("sha256").update(WHEEL).digest("hex");
const EXPECTED = `Basic ${Buffer.from("index-user:p@ss word").toString("base64")}`;
let server: Server;
let origin: string;
const seen: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== EXPECTED) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="index"' }).end();
      return;
    }
    if (req.url === "/simple/six/") {
      res.writeHead(200, { "content-type": "text/html" }).end(`<a href="../../files/six-1.16.0-py2.py3-none-any.whl#sha256=${SHA}">six-1.16.0-py2.py3-none-any.whl</a>`);
    } else if (req.url === "/files/six-1.16.0-py2.py3-none-any.whl") {
      res.writeHead(200).end(WHEEL);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  origin = `127.0.0.1:${address.port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("index credentials", () => {
  it("are sent as a Basic Authorization header, to the index and its files, and left out of every URL", async () => {
    const files = await indexFiles(`http://index-user:p%40ss%20word@${origin}/simple`, "six");
    expect(files).toEqual([{ filename: "six-1.16.0-py2.py3-none-any.whl", url: `http://${origin}/files/six-1.16.0-py2.py3-none-any.whl`, sha256: SHA }]);
    const dir = mkdtempSync(join(tmpdir(), "index-credentials-"));
    expect(await downloadArtifact(dir, { filename: "six-1.16.0-py2.py3-none-any.whl", url: (files[0] as { url: string }).url, sha256: SHA })).toBe(true);
    expect(readFileSync(join(dir, "six-1.16.0-py2.py3-none-any.whl"))).toEqual(WHEEL);
    expect(seen).toEqual([EXPECTED, EXPECTED]);
  });
});
