import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { type NodeMessage, nodeMessage, type RouterMessage } from '../protocol/index.js';

/**
 * A stand-in router for tests: a real WebSocket server on 127.0.0.1 that records what nodes send (each
 * message checked against the protocol schema) and lets the test answer. Test-only; not exported.
 */
export class FakeRouter {
  readonly received: NodeMessage[] = [];
  readonly invalid: unknown[] = [];
  readonly sockets: WebSocket[] = [];
  /** What to send a node right after it connects; set to undefined to say nothing. */
  challenge: (() => string) | undefined = () => `challenge-${Math.random().toString(36).slice(2)}-0123456789`;
  #listeners = new Set<() => void>();

  private constructor(readonly server: WebSocketServer) {
    server.on('connection', (socket) => {
      this.sockets.push(socket);
      const challenge = this.challenge?.();
      if (challenge) this.sendTo(socket, { type: 'challenge', challenge });
      socket.on('message', (data) => {
        const parsed = nodeMessage.safeParse(JSON.parse(data.toString()));
        if (parsed.success) this.received.push(parsed.data);
        else this.invalid.push(parsed.error.issues);
        for (const listener of this.#listeners) listener();
      });
    });
  }

  static async start(): Promise<FakeRouter> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/nodes/ws' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new FakeRouter(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The latest connection. */
  get socket(): WebSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no node connected');
    return socket;
  }

  sendTo(socket: WebSocket, message: RouterMessage): void {
    socket.send(JSON.stringify(message));
  }

  send(message: RouterMessage): void {
    this.sendTo(this.socket, message);
  }

  /** The first received message (from index `from`) that matches, waiting for it up to `timeoutMs`. */
  waitFor<T extends NodeMessage>(
    match: (m: NodeMessage) => m is T,
    // A bound, not a pace: on a loaded machine a message may take seconds; the wait ends when it comes.
    timeoutMs = 60_000,
    from = 0,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.slice(from).find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching node message within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      const listener = () => void check();
      this.#listeners.add(listener);
      check();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A type guard for node messages of one type, optionally for one task. */
export function isType<K extends NodeMessage['type']>(type: K, taskId?: string) {
  return (m: NodeMessage): m is Extract<NodeMessage, { type: K }> =>
    m.type === type && (taskId === undefined || ('taskId' in m && m.taskId === taskId));
}
