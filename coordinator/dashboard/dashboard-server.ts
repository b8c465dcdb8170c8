import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DdpError } from '../../shared/common/errors.js';
import type { DashboardConfig } from '../observe/observe-flags.js';
import type { RunMetrics } from '../observe/prometheus-metrics.js';
import type { RunEvent, RunEventListener } from '../observe/run-events.js';
import type { RunView } from '../observe/run-view.js';

/** dist/coordinator/dashboard/ at run time: compiled page modules live beside it, the HTML and CSS in the sources. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST_ROOT = path.resolve(HERE, '../..');
const PAGE_SOURCES = path.resolve(DIST_ROOT, '../coordinator/dashboard/page');
/** The compiled modules a page may load (their relative imports resolve within these folders). */
const MODULE_PATH = /^\/coordinator\/(observe|dashboard\/page)\/[a-z-]+\.js$/;
const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: path.join(PAGE_SOURCES, 'index.html'), type: 'text/html; charset=utf-8' },
  '/style.css': { file: path.join(PAGE_SOURCES, 'style.css'), type: 'text/css; charset=utf-8' },
};
const TOKEN_COOKIE = 'omniglot_ddp_token';
const SSE_KEEPALIVE_MS = 15_000;

export interface DashboardSource {
  readonly view: RunView;
  readonly metrics: RunMetrics;
  /** Live events for server-sent events; a finished run's source has none and pages just keep the snapshot. */
  readonly subscribe?: (listener: RunEventListener) => () => void;
  /** 'live' for a running coordinator, 'replay' for a finished run folder. */
  readonly mode: 'live' | 'replay';
}

function tokenFrom(req: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query !== null) return query;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${TOKEN_COOKIE}=`));
  return cookie === undefined ? undefined : decodeURIComponent(cookie.slice(TOKEN_COOKIE.length + 1));
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The dashboard's HTTP server (node:http): the page and its modules, /api/state (the view as JSON), /api/events
 * (server-sent events: a snapshot, then each event) and /metrics (Prometheus text). Read-only: GET and HEAD only.
 * With a token, every request must carry it (query, bearer header, or the cookie set when the page is opened
 * with ?token=).
 */
export class DashboardServer {
  private readonly streams = new Set<ServerResponse>();
  private readonly keepalive: NodeJS.Timeout;

  private constructor(private readonly server: Server, private readonly config: DashboardConfig, private readonly source: DashboardSource) {
    this.keepalive = setInterval(() => {
      for (const res of this.streams) res.write(': keepalive\n\n');
    }, SSE_KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Listens on the configured address. @throws DdpError ERR_BAD_CONFIG when it cannot (address in use, not permitted). */
  static async start(config: DashboardConfig, source: DashboardSource): Promise<DashboardServer> {
    let instance: DashboardServer | undefined;
    const server = createServer((req, res) => {
      instance?.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(error as Error).message}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new DdpError('ERR_BAD_CONFIG',
        `--dashboard ${config.listen.host}:${config.listen.port}: cannot listen (${error.message})`, { cause: error })));
      server.listen(config.listen.port, config.listen.host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    instance = new DashboardServer(server, config, source);
    return instance;
  }

  /** The URL to open (with the token, when there is one). */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}/${this.config.token !== undefined ? `?token=${encodeURIComponent(this.config.token)}` : ''}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.keepalive);
    for (const res of this.streams) res.end();
    this.streams.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive connections of finished requests would hold close() for their idle timeout.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the dashboard is read-only\n');
      return;
    }
    const headers: Record<string, string> = { 'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; style-src 'self'; img-src 'self' data:", 'cache-control': 'no-store' };
    if (this.config.token !== undefined) {
      if (!sameToken(tokenFrom(req, url), this.config.token)) {
        res.writeHead(401, { ...headers, 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('this dashboard needs its token: open it with ?token=<token> or send Authorization: Bearer <token>\n');
        return;
      }
      headers['set-cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(this.config.token)}; HttpOnly; SameSite=Strict; Path=/`;
    }
    const asset = STATIC[url.pathname];
    if (asset) return this.send(res, headers, asset.type, await readFile(asset.file));
    if (MODULE_PATH.test(url.pathname)) {
      const file = path.join(DIST_ROOT, url.pathname);
      const body = await readFile(file).catch(() => undefined);
      if (body) return this.send(res, headers, 'text/javascript; charset=utf-8', body);
    }
    switch (url.pathname) {
      case '/api/state':
        return this.send(res, headers, 'application/json', JSON.stringify({ mode: this.source.mode, state: this.source.view.state }));
      case '/metrics':
        return this.send(res, headers, this.source.metrics.contentType, await this.source.metrics.exposition());
      case '/api/events':
        this.stream(res, headers);
        return;
      default:
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end(`no such page: ${url.pathname}\n`);
    }
  }

  private send(res: ServerResponse, headers: Record<string, string>, type: string, body: string | Buffer): void {
    res.writeHead(200, { ...headers, 'content-type': type }).end(body);
  }

  /** Server-sent events: `snapshot` with the whole view, then `run` per event (socket traffic left out). */
  private stream(res: ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    res.write(`event: snapshot\ndata: ${JSON.stringify({ mode: this.source.mode, state: this.source.view.state })}\n\n`);
    this.streams.add(res);
    const unsubscribe = this.source.subscribe?.((e: RunEvent) => {
      if (e.kind !== 'wire') res.write(`event: run\ndata: ${JSON.stringify(e)}\n\n`);
    });
    res.on('close', () => {
      unsubscribe?.();
      this.streams.delete(res);
    });
  }
}
