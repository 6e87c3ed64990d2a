import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from './identity.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('node identity', () => {
  it('creates a key readable only by its owner, in a private folder, and reuses it', async () => {
    const base = await mkdtemp(join(tmpdir(), 'omni-identity-'));
    dirs.push(base);
    const dataDir = join(base, 'data');
    const first = loadIdentity(dataDir);
    expect((await stat(join(dataDir, 'node-key.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const second = loadIdentity(dataDir);
    expect(second.account.address).toBe(first.account.address);
    expect(first.account.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('refuses a damaged key file instead of silently making a new identity', async () => {
    const base = await mkdtemp(join(tmpdir(), 'omni-identity-'));
    dirs.push(base);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(base, 'node-key.json'), '{"privateKey":"nope"}');
    expect(() => loadIdentity(base)).toThrow(/damaged/);
  });
});
