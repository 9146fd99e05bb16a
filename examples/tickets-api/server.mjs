// A small ticketing HTTP API on loopback that the example connectors read: bearer-token auth,
// page-number pagination and an `updated_since` filter for incremental syncs. Used by the
// end-to-end tests and by scripts/main-job.sh. Plain Node, no dependencies.
//
//   node examples/tickets-api/server.mjs [--port 0] [--token demo-token]
// prints `listening http://127.0.0.1:<port>` on stdout and serves until killed.
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

/** The fixed data set: 7 tickets updated a day apart, 3 users. */
export const TICKETS = Array.from({ length: 7 }, (_, i) => ({
  id: i + 1,
  subject: `Ticket ${i + 1}`,
  status: i % 3 === 0 ? "closed" : "open",
  requester_id: (i % 3) + 1,
  updated_at: new Date(Date.UTC(2024, 0, 1 + i, 12, 0, 0)).toISOString().replace(".000Z", "Z"),
}));
export const USERS = [
  { id: 1, name: "Ada", email: "ada@example.com" },
  { id: 2, name: "Grace", email: "grace@example.com" },
  { id: 3, name: "Linus", email: "linus@example.com" },
];

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Pages of `perPage` items; `next_page` is null on the last page. */
function page(items, url) {
  const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page") ?? "3") || 3, 1), 100);
  const number = Math.max(Number(url.searchParams.get("page") ?? "1") || 1, 1);
  const data = items.slice((number - 1) * perPage, number * perPage);
  const next = number * perPage < items.length ? number + 1 : null;
  return { data, next_page: next };
}

/**
 * Starts the API. Every request is recorded in `requests` (method, path with query, whether the
 * token matched) so tests can assert what the connector asked for.
 * @param {{ port?: number, token?: string }} [options]
 * @returns {Promise<{ url: string, port: number, token: string, requests: Array<{ path: string, authorized: boolean }>, close: () => Promise<void> }>}
 */
export function startTicketsApi(options = {}) {
  const token = options.token ?? "demo-token";
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const authorized = req.headers.authorization === `Bearer ${token}`;
    requests.push({ method: req.method, path: `${url.pathname}${url.search}`, authorized });
    if (req.method !== "GET") return send(res, 405, { error: "method not allowed" });
    if (!authorized) return send(res, 401, { error: "invalid or missing bearer token" });
    switch (url.pathname) {
      case "/v1/me":
        return send(res, 200, { id: "api-user", name: "Demo" });
      case "/v1/tickets": {
        const since = url.searchParams.get("updated_since");
        if (since !== null && Number.isNaN(Date.parse(since))) return send(res, 400, { error: `updated_since: not a date: ${since}` });
        const items = since === null ? TICKETS : TICKETS.filter((t) => Date.parse(t.updated_at) >= Date.parse(since));
        return send(res, 200, page(items, url));
      }
      case "/v1/users":
        return send(res, 200, page(USERS, url));
      default:
        return send(res, 404, { error: `no such endpoint: ${url.pathname}` });
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        token,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const api = await startTicketsApi({ port: Number(flag("--port") ?? "0"), token: flag("--token") ?? "demo-token" });
  process.stdout.write(`listening ${api.url}\n`);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => api.close().then(() => process.exit(0)));
}
