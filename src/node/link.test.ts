import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { createResultKey, helloClaimText, PROTOCOL_VERSION, verifySigner } from '../protocol/index.js';
import { gatewayUrl, type LinkInit, RouterLink } from './link.js';
import { FakeRouter, isType } from './testing.js';

const account = privateKeyToAccount(generatePrivateKey());
const hello: LinkInit['hello'] = {
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  nodeId: account.address,
  resultKey: createResultKey().publicKey,
  hardware: { nodeType: 'cpu', cpuCores: 1, cpuModel: 'test', memoryBytes: 1, gpus: [], threads: 1 },
  models: [
    {
      sha256: 'a'.repeat(64),
      name: 'm',
      architecture: 'llama',
      quantization: 'Q8_0',
      parameterCount: 1,
      contextLength: 16,
      sizeBytes: 1,
      tokensPerSecond: 1,
      slots: 1,
    },
  ],
};

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup() {
  const router = await FakeRouter.start();
  const logs: string[] = [];
  let fatal = 0;
  const link = new RouterLink({
    routerUrl: router.url,
    account,
    hello,
    onMessage: () => {},
    onDown: () => {},
    onFatal: () => fatal++,
    running: () => 0,
    log: (line) => logs.push(line),
  });
  cleanup.push(
    () => router.close(),
    () => link.stop(),
  );
  link.start();
  return { router, link, logs, fatal: () => fatal };
}

describe('router link', () => {
  it('turns the router URL into its node gateway URL', () => {
    expect(gatewayUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/nodes/ws');
    expect(gatewayUrl('https://r.example/base/')).toBe('wss://r.example/base/nodes/ws');
  });

  it('signs the hello over the challenge, ignores invalid router messages, and resolves on welcome', async () => {
    const { router, link, logs } = await setup();
    const got = await router.waitFor(isType('hello'));
    const { signature, ...body } = got;
    expect(await verifySigner(helloClaimText(body), signature, account.address)).toBe(true);
    router.socket.send(JSON.stringify({ type: 'task', taskId: 'no-input' }));
    router.socket.send('not json');
    router.send({ type: 'welcome', nodeId: account.address, heartbeatMs: 100 });
    await link.connected;
    await router.waitFor(isType('heartbeat'));
    expect(logs.filter((l) => l.startsWith('ignored an invalid message'))).toHaveLength(2);
  });

  it('stops for good when the router refuses the hello', async () => {
    const { router, link, fatal } = await setup();
    await router.waitFor(isType('hello'));
    router.send({ type: 'reject', reason: 'hello signature does not match the node id' });
    router.socket.close(4003, 'bad hello');
    await expect(link.connected).rejects.toThrow(/refused/);
    await new Promise((r) => setTimeout(r, 600));
    expect(router.sockets).toHaveLength(1);
    expect(fatal()).toBe(1);
  });

  it('reconnects after the router goes away and answers the new challenge', async () => {
    const { router } = await setup();
    await router.waitFor(isType('hello'));
    router.socket.terminate();
    const from = router.received.length;
    await router.waitFor(isType('hello'), undefined, from);
    expect(router.sockets).toHaveLength(2);
  });
});
