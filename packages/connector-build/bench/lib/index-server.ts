import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { normalizeProjectName, type SyntheticPackage } from "./wheels.ts";

/** A PEP 503 "simple" index on loopback, serving generated wheels from memory. */
export interface PackageIndex {
  /** `http://127.0.0.1:<port>/simple/` */
  readonly url: string;
  /** `127.0.0.1`, for PIP_TRUSTED_HOST. */
  readonly host: string;
  /** Requests served so far, by kind. */
  readonly counters: { pages: number; files: number; notFound: number; bytes: number };
  close(): Promise<void>;
}

// The headers PyPI sends (pypi.org/simple pages, files.pythonhosted.org files): pip's HTTP cache
// keeps downloaded wheels under ~/.cache/pip/http, in a layer or in a cache mount, as it would with PyPI.
const PAGE_CACHE_CONTROL = "max-age=600, public";
const FILE_CACHE_CONTROL = "max-age=365000000, immutable, public";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Starts the index on 127.0.0.1 (random port). Build containers reach it because the Docker engine
 * and the variant builds use host networking. Unknown projects (pip itself, say) answer 404, which
 * pip reads as "no candidates".
 */
export async function startPackageIndex(dir: string, packages: readonly SyntheticPackage[]): Promise<PackageIndex> {
  const byProject = new Map<string, SyntheticPackage[]>();
  const files = new Map<string, Buffer>();
  for (const p of packages) {
    const key = normalizeProjectName(p.project);
    byProject.set(key, [...(byProject.get(key) ?? []), p]);
    files.set(p.file, readFileSync(join(dir, p.file)));
  }
  const counters = { pages: 0, files: 0, notFound: 0, bytes: 0 };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    const send = (status: number, type: string, body: Buffer | string, cacheControl?: string) => {
      const data = typeof body === "string" ? Buffer.from(body) : body;
      res.writeHead(status, { "Content-Type": type, "Content-Length": data.length, ...(cacheControl ? { "Cache-Control": cacheControl } : {}) });
      res.end(req.method === "HEAD" ? undefined : data);
      if (status === 404) counters.notFound++;
      else counters.bytes += data.length;
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/simple" || path === "/simple/") {
      counters.pages++;
      const links = [...byProject.keys()].sort().map((k) => `<a href="/simple/${k}/">${k}</a><br/>`);
      return send(200, "text/html", `<!DOCTYPE html>\n<html><body>\n${links.join("\n")}\n</body></html>\n`);
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (project) {
      const name = normalizeProjectName(project[1] as string);
      if (!path.endsWith("/")) {
        res.writeHead(301, { Location: `/simple/${name}/` });
        res.end();
        return;
      }
      const found = byProject.get(name);
      if (!found) return send(404, "text/plain", `no project ${name}\n`);
      counters.pages++;
      const links = found.map((p) => `<a href="/files/${encodeURIComponent(p.file)}#sha256=${p.sha256}" data-requires-python="&gt;=3.8">${escapeHtml(p.file)}</a><br/>`);
      return send(200, "text/html", `<!DOCTYPE html>\n<html><body>\n<h1>Links for ${escapeHtml(name)}</h1>\n${links.join("\n")}\n</body></html>\n`, PAGE_CACHE_CONTROL);
    }
    const file = /^\/files\/([^/]+)$/.exec(path);
    if (file) {
      const data = files.get(file[1] as string);
      if (!data) return send(404, "text/plain", "no such file\n");
      counters.files++;
      return send(200, "application/octet-stream", data, FILE_CACHE_CONTROL);
    }
    return send(404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    host: "127.0.0.1",
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
