import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import {
  cliOutput,
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

let ws: Workspace;
let url: string;
let apiKey: string;
let openai: OpenAI;

const post = (path: string, body: string, key: string | null = apiKey) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body,
  });

beforeAll(async () => {
  ws = await workspace('api');
  ({ apiKey } = await prepareRouterData(ws));
  // A second model that is registered but that no node serves: requests for it get 503.
  const unserved = join(ws.dir, 'other.gguf');
  await writeTinyModel(unserved, { seed: 2 });
  await cliOutput(['model', 'add', unserved, '--name', 'unserved', '--data', join(ws.dir, 'router')]);
  ({ url } = await startRouterProcess(ws));
  await startNodeProcess(ws, url, 'node-1');
  await waitForNodes(url, 1);
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
});

afterAll(async () => {
  await ws?.cleanup();
});

describe('OpenAI-compatible API through a real router and node', () => {
  it('reports health with the connected node count', async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', nodes: 1 });
  });

  it('lists only models a connected node can serve', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
  });

  it('answers a chat completion with usage that honours max_tokens', async () => {
    const answer = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hello there' }],
      max_tokens: 20,
      temperature: 0,
    });
    expect(answer.object).toBe('chat.completion');
    expect(answer.choices[0]?.message.role).toBe('assistant');
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(answer.usage?.completion_tokens).toBeLessThanOrEqual(20);
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(answer.usage?.total_tokens).toBe(
      (answer.usage?.prompt_tokens ?? 0) + (answer.usage?.completion_tokens ?? 0),
    );
  });

  it('gives the same answer for the same seed, and greedy answers are repeatable', async () => {
    const ask = (seed: number) =>
      openai.chat.completions.create({
        model: 'tiny',
        messages: [{ role: 'user', content: 'Seeded' }],
        max_tokens: 16,
        temperature: 0.9,
        seed,
      });
    const [a, b] = await Promise.all([ask(42), ask(42)]);
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
  });

  it('streams a chat completion with the official client, ending with usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 24,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBeDefined();
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    // The stream carries exactly the text a non-streaming call with the same settings returns.
    const same = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 24,
      temperature: 0,
    });
    expect(text).toBe(same.choices[0]?.message.content);
  });

  it('ends the raw SSE stream with data: [DONE]', async () => {
    const response = await post(
      '/v1/chat/completions',
      JSON.stringify({
        model: 'tiny',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 5,
        stream: true,
      }),
    );
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = await response.text();
    expect(body.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('answers text completions, with stop strings cutting the text', async () => {
    const completion = await openai.completions.create({
      model: 'tiny',
      prompt: 'Once upon a time',
      max_tokens: 12,
      temperature: 0,
    });
    expect(completion.object).toBe('text_completion');
    const text = completion.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
    const stop = text.slice(2, 4);
    if (stop.trim().length > 0) {
      const cut = await openai.completions.create({
        model: 'tiny',
        prompt: 'Once upon a time',
        max_tokens: 12,
        temperature: 0,
        stop,
      });
      expect(cut.choices[0]?.text).not.toContain(stop);
      expect(cut.choices[0]?.finish_reason).toBe('stop');
    }
  });

  it('returns embeddings, one vector per input', async () => {
    const result = await openai.embeddings.create({ model: 'tiny', input: ['first text', 'second text'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(result.data[0]?.embedding).not.toEqual(result.data[1]?.embedding);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('creates a session only for a servable model and answers prompts in it', async () => {
    const created = await post(
      '/api/sessions',
      JSON.stringify({ model: 'tiny', max_tokens: 8, temperature: 0 }),
    );
    expect(created.status).toBe(201);
    const session = (await created.json()) as { id: string };
    const answer = await post(`/api/sessions/${session.id}/prompts`, JSON.stringify({ prompt: 'Hi' }));
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(8);
    const refused = await post('/api/sessions', JSON.stringify({ model: 'unserved' }));
    expect(refused.status).toBe(503);
  });
});

describe('bad requests get OpenAI error JSON with the right status', () => {
  const chat = (body: unknown, key?: string | null) =>
    post('/v1/chat/completions', JSON.stringify(body), key);
  const ok = { model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };

  it('401 for a missing or unknown key', async () => {
    expect((await chat(ok, null)).status).toBe(401);
    const response = await chat(ok, 'ot-not-a-real-key');
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('400 for malformed JSON', async () => {
    const response = await post('/v1/chat/completions', '{"model": "tiny", "messages": [');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/JSON/);
  });

  it('400 naming the bad parameter', async () => {
    const response = await chat({ ...ok, temperature: 7 });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('temperature');
    const missing = await chat({ model: 'tiny' });
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('messages');
  });

  it('404 for an unknown model', async () => {
    const response = await chat({ ...ok, model: 'no-such-model' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  it('503 when no node serves the model', async () => {
    expect((await chat({ ...ok, model: 'unserved' })).status).toBe(503);
  });

  it('413 for a prompt longer than the context, streaming or not', async () => {
    const long = 'word '.repeat(6000);
    const body = { ...ok, messages: [{ role: 'user', content: long }] };
    const response = await chat(body);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'context_length_exceeded',
    );
    expect((await chat({ ...body, stream: true })).status).toBe(413);
  });

  it('keeps serving after all of that', async () => {
    expect((await chat(ok)).status).toBe(200);
  });
});
