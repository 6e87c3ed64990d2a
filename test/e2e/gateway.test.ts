import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { possessionDigest, sha256File, writeTinyModel } from '../../src/models/index.js';
import {
  createNonceSource,
  createResultKey,
  type HelloMessage,
  helloClaimText,
  outputHash,
  type ProveMessage,
  type RouterMessage,
  resultClaimText,
  resultsClaimText,
  signText,
} from '../../src/protocol/index.js';
import { prepareRouterData, startRouterProcess, type Workspace, workspace } from './harness.js';

let ws: Workspace;
let url: string;
let apiKey: string;
let modelSha: string;
let router: Awaited<ReturnType<typeof startRouterProcess>>;

beforeAll(async () => {
  ws = await workspace('gateway');
  ({ apiKey } = await prepareRouterData(ws));
  modelSha = await sha256File(ws.model);
  router = await startRouterProcess(ws);
  url = router.url;
});
afterAll(async () => ws?.cleanup());

/** A hand-driven node connection that records what the router sends. */
async function connect() {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/nodes/ws`);
  const received: RouterMessage[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    received.push(JSON.parse(data.toString()) as RouterMessage);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
  await new Promise((done) => socket.on('open', done));
  const next = async (type: RouterMessage['type'], timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = received.find((m) => m.type === type);
      if (found) {
        received.splice(received.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((done) => {
        waiters.push(done);
        setTimeout(done, 200);
      });
    }
    throw new Error(`no '${type}' message from the router`);
  };
  return {
    socket,
    next,
    closed,
    send: (m: unknown) => socket.send(typeof m === 'string' ? m : JSON.stringify(m)),
  };
}

/** A signed hello from `account` answering `challenge`, announcing the tiny model. */
async function signedHello(
  account: PrivateKeyAccount,
  challenge: string,
  resultKey: string,
): Promise<HelloMessage> {
  const body: Omit<HelloMessage, 'signature'> = {
    type: 'hello',
    protocol: 1,
    nodeId: account.address,
    challenge,
    resultKey,
    hardware: { nodeType: 'cpu', cpuCores: 2, cpuModel: 'test', memoryBytes: 1, gpus: [], threads: 1 },
    models: [
      {
        sha256: modelSha,
        name: 'tiny',
        architecture: 'llama',
        quantization: 'Q8_0',
        parameterCount: 1,
        contextLength: 2048,
        sizeBytes: 1,
        tokensPerSecond: 100000,
        slots: 4,
      },
    ],
  };
  return { ...body, signature: await signText(account, helloClaimText(body)) };
}

async function hello(privateKey = generatePrivateKey(), tamper?: (h: HelloMessage) => HelloMessage) {
  const account = privateKeyToAccount(privateKey);
  const resultKey = createResultKey();
  const conn = await connect();
  const challenge = (await conn.next('challenge')) as { challenge: string };
  let message = await signedHello(account, challenge.challenge, resultKey.publicKey);
  if (tamper) message = tamper(message);
  conn.send(message);
  return { ...conn, account, signResult: resultKey.sign };
}

/** Answers the router's proof-of-possession challenge by hashing the asked range of `file`. */
async function proveFrom(node: Awaited<ReturnType<typeof hello>>, file: string) {
  const prove = (await node.next('prove')) as ProveMessage;
  const digest = await possessionDigest(file, prove.offset, prove.length, prove.nonce);
  node.send({ type: 'proof', sha256: prove.sha256, nonce: prove.nonce, digest });
}

/** Resolves once the router logs that the node can take work (its hello verified and its models proven). */
const ready = (node: { account: PrivateKeyAccount }) =>
  router.process.line(new RegExp(`node connected node=${node.account.address}`, 'i'));

const health = async () => (await (await fetch(`${url}/health`)).json()) as { status: string; nodes: number };

describe('node gateway rejects bad node messages without crashing', () => {
  it('rejects malformed JSON and schema-invalid messages, and keeps running', async () => {
    const conn = await connect();
    await conn.next('challenge');
    conn.send('{not json');
    expect(await conn.next('reject')).toMatchObject({ reason: 'malformed JSON' });
    conn.send({ type: 'result', taskId: 'x' });
    expect(((await conn.next('reject')) as { reason: string }).reason).toMatch(/invalid message/);
    conn.send({ type: 'heartbeat', sentAt: 1, running: 0 });
    expect(((await conn.next('reject')) as { reason: string }).reason).toMatch(/before a verified hello/);
    conn.socket.close();
    expect((await health()).status).toBe('ok');
  });

  it('rejects a hello signed by a key other than the claimed node id', async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    const conn = await hello(undefined, (h) => ({ ...h, nodeId: other.address }));
    expect(((await conn.next('reject')) as { reason: string }).reason).toMatch(/signature/);
    expect(await conn.closed).toBe(4003);
    expect((await health()).nodes).toBe(0);
  });

  it('rejects a hello replayed from another connection (wrong challenge)', async () => {
    const first = await hello();
    await first.next('welcome');
    const replay = await connect();
    await replay.next('challenge');
    replay.send(await signedHello(first.account, 'f'.repeat(48), createResultKey().publicKey));
    expect(((await replay.next('reject')) as { reason: string }).reason).toMatch(/challenge/);
    first.socket.close();
    await first.closed;
  });

  it('does not give work to a node that cannot prove it holds the model it claims', async () => {
    const impostor = await hello();
    await impostor.next('welcome');
    // The impostor has another file and claims the registered model's sha256.
    const other = join(ws.dir, 'other.gguf');
    await writeTinyModel(other, { seed: 99 });
    await proveFrom(impostor, other);
    expect(((await impostor.next('reject')) as { reason: string }).reason).toMatch(/does not match the file/);
    expect(await impostor.closed).toBe(4005);
    expect((await health()).nodes).toBe(0);
  });

  it('rejects a forged or replayed result and accepts the genuine one', async () => {
    const node = await hello();
    await node.next('welcome');
    await proveFrom(node, ws.model);
    // The proof is checked asynchronously: ask only once the node can take work (else the answer is a 503).
    await ready(node);
    const answer = fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      // The gateway's own checks are under test here; result verification (which would send the task to a
      // second hand-driven node that never answers) is not.
      body: JSON.stringify({ model: 'tiny', prompt: 'hi', max_tokens: 3, validation: 'none' }),
    });
    const task = (await node.next('task')) as { taskId: string; attempt: number };
    const output = { text: 'abc', promptTokens: 2, completionTokens: 3, finishReason: 'length' as const };
    const nonces = createNonceSource();
    const claim = {
      nodeId: node.account.address,
      taskId: task.taskId,
      attempt: task.attempt,
      modelSha256: modelSha,
      outputSha256: outputHash(output),
    };
    // Signed by someone else: rejected.
    const forger = createResultKey().sign;
    const forgedNonce = nonces();
    node.send({
      type: 'result',
      ...claim,
      nonce: forgedNonce,
      output,
      signature: forger(resultClaimText({ ...claim, nonce: forgedNonce })),
    });
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/signature/);
    // Output that does not match its hash: rejected.
    const nonce = nonces();
    const genuine = {
      type: 'result',
      ...claim,
      nonce,
      output,
      signature: node.signResult(resultClaimText({ ...claim, nonce })),
    };
    node.send({ ...genuine, output: { ...output, text: 'tampered' } });
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/hash/);
    // The genuine one is accepted and reaches the client.
    node.send(genuine);
    const response = await answer;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { text: string }[] }).choices[0]?.text).toBe('abc');
    // Sending it again is a replay: rejected.
    node.send(genuine);
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/not leased|stale nonce/);
    expect((await health()).status).toBe('ok');
    expect(router.process.output()).toMatch(/rejected node message/);
    // The hello that certified the result key is kept as evidence for a later re-check.
    const db = new Database(join(ws.dir, 'router', 'router.db'), { readonly: true });
    const stored = db
      .prepare('SELECT hello FROM node_hellos WHERE node_id = ?')
      .get(node.account.address.toLowerCase()) as { hello: string } | undefined;
    db.close();
    expect(JSON.parse(stored?.hello ?? '{}').signature).toMatch(/^0x/);
    node.socket.close();
    await node.closed;
  });

  it('accepts several results under one batch signature, and rejects a forged or replayed batch', async () => {
    const node = await hello();
    await node.next('welcome');
    await proveFrom(node, ws.model);
    await ready(node);
    const ask = (prompt: string) =>
      fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ model: 'tiny', prompt, max_tokens: 3, validation: 'none' }),
      });
    const answers = [ask('one'), ask('two')];
    const tasks = [
      (await node.next('task')) as { taskId: string; attempt: number },
      (await node.next('task')) as { taskId: string; attempt: number },
    ];
    const nonces = createNonceSource();
    const results = tasks.map((task, i) => {
      const output = { text: `batched ${task.taskId}`, promptTokens: 1, completionTokens: i + 1 };
      return {
        taskId: task.taskId,
        attempt: task.attempt,
        modelSha256: modelSha,
        outputSha256: outputHash(output),
        nonce: nonces(),
        output,
      };
    });
    const claims = results.map((r) => ({ ...r, nodeId: node.account.address }));
    // Signed by another key: rejected, nothing accepted.
    const forger = createResultKey().sign;
    node.send({
      type: 'results',
      results,
      signature: forger(resultsClaimText(node.account.address, claims)),
    });
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/batch signature/);
    // The node's signature over a different list (one result swapped out) does not cover this list.
    const [firstClaim] = claims;
    node.send({
      type: 'results',
      results,
      signature: node.signResult(resultsClaimText(node.account.address, firstClaim ? [firstClaim] : [])),
    });
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/batch signature/);
    const batch = {
      type: 'results',
      results,
      signature: node.signResult(resultsClaimText(node.account.address, claims)),
    };
    node.send(batch);
    const texts = await Promise.all(
      answers.map(async (answer) => {
        const response = await answer;
        expect(response.status).toBe(200);
        return ((await response.json()) as { choices: { text: string }[] }).choices[0]?.text;
      }),
    );
    expect(texts.sort()).toEqual(results.map((r) => r.output.text).sort());
    // The same batch again is a replay: its nonces are spent.
    node.send(batch);
    expect(((await node.next('reject')) as { reason: string }).reason).toMatch(/stale nonce/);
    node.socket.close();
    await node.closed;
  });
});

describe('a node cannot take over a registered model name', () => {
  const MADE_UP = 'e'.repeat(64);
  const UNCLAIMED = 'd'.repeat(64);

  /** A signed hello announcing `models` (files the router holds no copy of, so no proof is asked). */
  async function announce(models: HelloMessage['models']) {
    const account = privateKeyToAccount(generatePrivateKey());
    const resultKey = createResultKey();
    const conn = await connect();
    const challenge = (await conn.next('challenge')) as { challenge: string };
    const { signature: _, ...tiny } = await signedHello(account, challenge.challenge, resultKey.publicKey);
    const body: Omit<HelloMessage, 'signature'> = { ...tiny, models };
    conn.send({ ...body, signature: await signText(account, helloClaimText(body)) });
    return { ...conn, account, signResult: resultKey.sign };
  }

  const nodesAre = async (count: number) => {
    while ((await health()).nodes !== count) await new Promise((r) => setTimeout(r, 20));
  };
  const complete = (model: string) =>
    fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model, prompt: 'hi', max_tokens: 3, validation: 'none' }),
    });
  /** Waits for the node's next task and answers it with `text`, signed. */
  async function answerNext(node: Awaited<ReturnType<typeof announce>>, sha256: string, text: string) {
    const task = (await node.next('task')) as { taskId: string; attempt: number; modelSha256: string };
    expect(task.modelSha256).toBe(sha256);
    const output = { text, promptTokens: 1, completionTokens: 1, finishReason: 'length' as const };
    const nonce = createNonceSource()();
    const claim = {
      nodeId: node.account.address,
      taskId: task.taskId,
      attempt: task.attempt,
      modelSha256: sha256,
      outputSha256: outputHash(output),
      nonce,
    };
    node.send({ type: 'result', ...claim, output, signature: node.signResult(resultClaimText(claim)) });
  }
  const text = async (response: Response) => {
    expect(response.status).toBe(200);
    return ((await response.json()) as { choices: { text: string }[] }).choices[0]?.text;
  };
  const listed = async () =>
    (
      (await (
        await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } })
      ).json()) as {
        data: { id: string; sha256: string }[];
      }
    ).data;

  it('a made-up sha256 announced as `tiny` gets none of its requests, and its leaving breaks nothing', async () => {
    const honest = await hello();
    await honest.next('welcome');
    await proveFrom(honest, ws.model);
    await nodesAre(1);
    const file = { architecture: 'llama', quantization: 'Q8_0', parameterCount: 1, contextLength: 2048 };
    const attacker = await announce([
      { ...file, sha256: MADE_UP, name: 'tiny', sizeBytes: 1, tokensPerSecond: 1e9, slots: 64 },
      { ...file, sha256: UNCLAIMED, name: 'unclaimed', sizeBytes: 1, tokensPerSecond: 1e9, slots: 64 },
    ]);
    await attacker.next('welcome');
    const stolen: unknown[] = [];
    attacker.socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as RouterMessage;
      if (message.type === 'task') stolen.push(message);
    });
    await nodesAre(2);
    expect(router.process.output()).toMatch(/node announced another file under a registered name/);

    // `tiny` still means the registered file: the honest node answers every request for it.
    for (const n of [1, 2]) {
      const response = complete('tiny');
      await answerNext(honest, modelSha, `honest ${n}`);
      expect(await text(await response)).toBe(`honest ${n}`);
    }
    expect(stolen).toEqual([]);
    // The attacker's files are reachable by their sha256 only, under which they are listed.
    expect((await complete('unclaimed')).status).toBe(404);
    const bySha = complete(MADE_UP);
    await answerNext(attacker, MADE_UP, 'by sha');
    expect(await text(await bySha)).toBe('by sha');
    expect((await listed()).map((m) => m.id).sort()).toEqual([UNCLAIMED, MADE_UP, 'tiny'].sort());
    expect((await listed()).find((m) => m.id === 'tiny')?.sha256).toBe(modelSha);
    const catalog = (
      (await (await fetch(`${url}/api/models`)).json()) as {
        data: { name: string; sha256: string; registered: boolean }[];
      }
    ).data;
    expect(catalog.find((m) => m.sha256 === MADE_UP)).toMatchObject({ name: MADE_UP, registered: false });
    expect(catalog.find((m) => m.sha256 === modelSha)).toMatchObject({ name: 'tiny', registered: true });

    // Once the attacker leaves, `tiny` keeps working and /v1/models lists only what is served.
    attacker.socket.close();
    await attacker.closed;
    await nodesAre(1);
    const after = complete('tiny');
    await answerNext(honest, modelSha, 'still honest');
    expect(await text(await after)).toBe('still honest');
    expect(await listed()).toEqual([expect.objectContaining({ id: 'tiny', sha256: modelSha })]);
    honest.socket.close();
    await honest.closed;
    await nodesAre(0);
    expect(await listed()).toEqual([]);
  });
});
