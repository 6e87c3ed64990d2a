import type { PrivateKeyAccount } from 'viem/accounts';
import WebSocket from 'ws';
import { certificateProblem } from '../models/index.js';
import {
  type HelloMessage,
  helloClaimText,
  type NodeMessage,
  type NodeMetricsSample,
  type RouterMessage,
  routerBaseUrl,
  routerMessage,
  signText,
} from '../protocol/index.js';
import { mark } from '../timing/marks.js';
import { type RouterTrust, routerSocketOptions } from './router-tls.js';

/** How often a heartbeat carries the node's figures. */
const METRICS_EVERY_MS = 10_000;

/** Close codes the router's gateway uses. */
const BAD_HELLO = 4003;
const REPLACED = 4004;

export type LinkInit = {
  routerUrl: string;
  account: PrivateKeyAccount;
  /** The hello without challenge and signature; the link adds both on each connection. */
  hello: Omit<HelloMessage, 'challenge' | 'signature'>;
  onMessage: (message: RouterMessage) => void;
  onDown: () => void;
  /** The router welcomed the node (each time the link comes up). */
  onUp?: (() => void) | undefined;
  /** The router refused this node's hello for good (bad signature): the link has stopped retrying. */
  onFatal: () => void;
  running: () => number;
  /** The node's figures for its periodic heartbeat (not the ping answers, which stay small and quick). */
  metrics?: (() => NodeMetricsSample) | undefined;
  log: (line: string) => void;
  /** A CA and/or pinned fingerprint for a wss router, beyond the system's roots. */
  trust?: RouterTrust | undefined;
};

/** The router's WebSocket URL for a router given as http(s)://host:port. */
export function gatewayUrl(routerUrl: string): string {
  const url = new URL(routerBaseUrl(routerUrl));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/nodes/ws`;
  return url.toString();
}

/**
 * One outbound WebSocket to the router (so nodes behind NAT can join), answering its challenge with a
 * signed hello, sending heartbeats, and reconnecting with backoff and jitter when it drops.
 */
export class RouterLink {
  readonly #init: LinkInit;
  #socket: WebSocket | undefined;
  #stopped = false;
  #delayMs = 250;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #lastPing: number | undefined;
  #metricsSentAt = 0;
  #welcomed!: () => void;
  #refused!: (error: Error) => void;
  /** Resolves on the first welcome; rejects when the router refuses the node for good. */
  readonly connected: Promise<void>;

  constructor(init: LinkInit) {
    this.#init = init;
    this.connected = new Promise((resolve, reject) => {
      this.#welcomed = resolve;
      this.#refused = reject;
    });
    // Callers need not await it; a refusal is logged anyway, so it must not become an unhandled rejection.
    this.connected.catch(() => {});
  }

  start(): void {
    this.#open();
  }

  send(message: NodeMessage): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnect);
    clearInterval(this.#heartbeat);
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000);
      socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      socket.close(1000, 'node stopping');
    });
  }

  #open(): void {
    if (this.#stopped) return;
    const socket = new WebSocket(gatewayUrl(this.#init.routerUrl), {
      maxPayload: 64 * 1024 * 1024,
      ...(routerSocketOptions(this.#init.trust) as WebSocket.ClientOptions),
    });
    this.#socket = socket;
    let failure: unknown;
    socket.on('message', (data) => {
      mark('n.message');
      let message: RouterMessage;
      try {
        const parsed = routerMessage.safeParse(JSON.parse(data.toString()));
        if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid');
        message = parsed.data;
      } catch (error) {
        this.#init.log(`ignored an invalid message from the router: ${String(error)}`);
        return;
      }
      this.#handle(socket, message).catch((error: unknown) =>
        this.#init.log(`error handling ${message.type}: ${String(error)}`),
      );
    });
    socket.on('close', (code, reason) => {
      clearInterval(this.#heartbeat);
      this.#init.onDown();
      if (this.#stopped) return;
      const certificate = certificateProblem(failure);
      if (certificate !== undefined) {
        // The same certificate comes back on every try: stop and say what to pass instead.
        this.#fatal(
          `refusing to connect to ${this.#init.routerUrl}: its TLS certificate failed verification (${certificate}); not reconnecting. Pass --router-ca FILE (the CA that signed it) or --router-fingerprint SHA256 (its pin), or fix the router's certificate.`,
        );
        return;
      }
      if (code === BAD_HELLO) {
        // Retrying sends the same signed claim again; it cannot succeed, so say so once and stop.
        this.#fatal(`the router refused this node's hello (${reason.toString() || code}); not reconnecting`);
        return;
      }
      if (code === REPLACED) {
        this.#init.log('another process connected with this node key; is the same data folder in use twice?');
      }
      const wait = this.#delayMs * (0.5 + Math.random() / 2);
      this.#delayMs = Math.min(this.#delayMs * 2, 10_000);
      this.#init.log(
        `link to the router closed (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${wait.toFixed(0)} ms`,
      );
      this.#reconnect = setTimeout(() => this.#open(), wait);
    });
    socket.on('error', (error) => {
      // 'close' follows and reconnects; the cause (refused, reset) is not worth a log line per try.
      failure = error;
    });
  }

  #fatal(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#reconnect);
    clearInterval(this.#heartbeat);
    this.#init.log(reason);
    this.#refused(new Error(reason));
    this.#socket?.close(1000, 'refused');
    this.#init.onFatal();
  }

  /**
   * The node's figures, on one periodic heartbeat in METRICS_EVERY_MS (the router records every 10 s), so the
   * router parses them a few times a minute per node, not every heartbeat.
   */
  #metricsDue(): { metrics?: NodeMetricsSample } {
    const now = Date.now();
    if (!this.#init.metrics || now - this.#metricsSentAt < METRICS_EVERY_MS) return {};
    this.#metricsSentAt = now;
    return { metrics: this.#init.metrics() };
  }

  async #handle(socket: WebSocket, message: RouterMessage): Promise<void> {
    switch (message.type) {
      case 'challenge': {
        const body = { ...this.#init.hello, challenge: message.challenge };
        const signature = await signText(this.#init.account, helloClaimText(body));
        socket.send(JSON.stringify({ ...body, signature } satisfies HelloMessage));
        return;
      }
      case 'welcome':
        this.#delayMs = 250;
        this.#init.log(`connected to ${this.#init.routerUrl}`);
        this.#metricsSentAt = 0;
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(() => {
          this.send({
            type: 'heartbeat',
            sentAt: Date.now(),
            running: this.#init.running(),
            ...(this.#lastPing === undefined ? {} : { pingEcho: this.#lastPing }),
            ...this.#metricsDue(),
          });
        }, message.heartbeatMs);
        this.#heartbeat.unref();
        this.#init.onUp?.();
        this.#welcomed();
        return;
      case 'ping':
        this.#lastPing = message.sentAt;
        // Answer at once so the router measures the round trip, not the heartbeat period.
        this.send({
          type: 'heartbeat',
          sentAt: Date.now(),
          running: this.#init.running(),
          pingEcho: message.sentAt,
        });
        return;
      case 'reject':
        this.#init.log(`the router rejected a message: ${message.reason}`);
        if (/hello signature/i.test(message.reason))
          this.#fatal(`the router refused this node: ${message.reason}`);
        return;
      default:
        this.#init.onMessage(message);
    }
  }
}
