import { describe, expect, it } from 'vitest';
import { routerMessage } from '../../protocol/index.js';
import type { TaskRecord } from '../../store/index.js';
import { taskMessageFor } from './task-message.js';

const ACCOUNT = '0x1234567890abcdef1234567890abcdef12345678';
const API_KEY = 'otk_secretkeythatnonodemaysee0123456789';
const KEY_ID = 'key_owner-of-this-task';
const SESSION = 'sess_users-private-session';
const IDEMPOTENCY = 'idem-users-own-retry-key';

describe('taskMessageFor', () => {
  it('tells the node the work, never whose it is (account, API key, session, idempotency key)', () => {
    // A record with everything the router knows about the user, including fields it does not keep today,
    // so a later change that spreads the record into the message fails here.
    const record: TaskRecord & { account: string; apiKey: string } = {
      id: 'task_1',
      keyId: KEY_ID,
      sessionId: SESSION,
      idempotencyKey: IDEMPOTENCY,
      modelSha256: 'a'.repeat(64),
      modelName: 'tiny',
      input: {
        kind: 'chat',
        messages: [{ role: 'user', content: 'hello' }],
        params: { maxTokens: 5, temperature: 0, topP: 1, seed: 7, stop: [] },
      },
      status: 'running',
      attempts: 1,
      nodeId: null,
      error: null,
      createdAt: 1,
      validation: { kind: 'likelihood' },
      requestSha256: 'f'.repeat(64),
      account: ACCOUNT,
      apiKey: API_KEY,
    };
    const lease = {
      task: { id: 'task_1', modelSha256: 'a'.repeat(64), maxTokens: 5, attempts: 0 },
      nodeId: `0x${'b'.repeat(40)}`,
      attempt: 1,
      deadline: 99,
      startedAt: 1,
      firstPieceBy: null,
      lastPieceAt: null,
    };
    const json = JSON.stringify(taskMessageFor(lease, record));
    for (const secret of [
      ACCOUNT,
      API_KEY,
      KEY_ID,
      SESSION,
      IDEMPOTENCY,
      'keyId',
      'sessionId',
      'idempotency',
    ])
      expect(json.toLowerCase()).not.toContain(secret.toLowerCase());
    expect(Object.keys(JSON.parse(json)).sort()).toEqual([
      'attempt',
      'deadline',
      'input',
      'modelSha256',
      'taskId',
      'type',
    ]);
    expect(routerMessage.parse(JSON.parse(json))).toEqual(JSON.parse(json));
  });
});
