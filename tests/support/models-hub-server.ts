/**
 * A stand-in for the Hugging Face hub on 127.0.0.1 (random port): serves files under
 * `/{repo}/resolve/{revision}/{path}`, and can misbehave on request (wrong bytes, a connection
 * dropped mid-body, 503s, no Range support) to exercise the download path for real.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubServerOptions {
  /** URL path -> body. Anything else is 404. */
  routes: Map<string, Buffer>;
  /** Serve these bytes instead of the real ones for every route. */
  wrongBytes?: boolean;
  /** Paths whose first N requests send half the body, then drop the connection. */
  dropOnce?: Map<string, number>;
  /** Paths whose first N requests answer 503. */
  unavailable?: Map<string, number>;
  /** Honour `Range: bytes=N-` with 206 (default true). */
  ranges?: boolean;
}

export interface HubServer {
  endpoint: string;
  /** Every request: path and Range header. */
  requests: Array<{ path: string; range?: string }>;
  close(): Promise<void>;
}

export async function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const requests: HubServer['requests'] = [];
  const drops = new Map(opts.dropOnce ?? []);
  const fails = new Map(opts.unavailable ?? []);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURI(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, range: req.headers.range });
    let body = opts.routes.get(path);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    if ((fails.get(path) ?? 0) > 0) {
      fails.set(path, fails.get(path)! - 1);
      res.writeHead(503).end('busy');
      return;
    }
    if (opts.wrongBytes) body = Buffer.alloc(body.length, 0x78); // same size, other bytes
    let status = 200;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && opts.ranges !== false) {
      const start = Number(m[1]);
      headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      body = body.subarray(start);
      status = 206;
    }
    headers['Content-Length'] = body.length;
    if ((drops.get(path) ?? 0) > 0) {
      drops.set(path, drops.get(path)! - 1);
      res.writeHead(status, headers);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.writeHead(status, headers).end(body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The routes the hub would have for a repo at a revision. */
export function hubRoutes(repo: string, revision: string, files: Record<string, Buffer>): Map<string, Buffer> {
  return new Map(Object.entries(files).map(([rel, body]) => [`/${repo}/resolve/${revision}/${rel}`, body]));
}
