import { createServer, type Server } from 'node:http';
import type { NodeStatusView } from '../../protocol/index.js';

/** Seed 000 maps the node's port 8080; `--status-port 0` turns the status server off. */
export const DEFAULT_STATUS_PORT = 8080;

export type StatusServerInit = {
  port: number;
  /** Loopback by default: the status is the owner's, not the world's. */
  host?: string;
  status: () => NodeStatusView;
  log: (line: string) => void;
};

/**
 * Serves `GET /status` (JSON) on a local port. A port in use (or any listen error) is logged and the node
 * runs on without it: the status page is a convenience, never a reason to stop serving work.
 */
export async function startStatusServer(init: StatusServerInit): Promise<Server | null> {
  if (init.port === 0) return null;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && (path === '/status' || path === '/')) {
      const body = JSON.stringify(init.status());
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(body);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ error: { message: `No route ${request.method} ${path}; try GET /status.` } }),
    );
  });
  const host = init.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.message;
      init.log(`status server not started on ${host}:${init.port}: ${why} (the node runs on without it)`);
      resolve(null);
    });
    server.listen(init.port, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : init.port;
      init.log(`status on http://${host}:${port}/status`);
      server.unref();
      resolve(server);
    });
  });
}
