/**
 * The adversarial bench's network: the router, honest workers, an honest validator, a colluding validator,
 * a sleeper, and the cheaters of each shift (spawned dormant, woken when their shift begins). Processes
 * are started through bench/sim/processes.ts, as the e2e harness starts them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey, registerModel } from '../../src/cli/local-commands.js';
import { writeTinyModel } from '../../src/models/index.js';
import type { CheaterConfig, CheatKind } from '../sim/cheater-node.js';
import { type CliProcess, runCheater, runCli, stopProcess, waitForNodes } from '../sim/processes.js';
import { type Shift, SLEEPER } from './scenario.js';

export type NodeRole = 'honest' | 'validator' | 'colluding validator' | 'sleeper' | string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const wallet = (byte: number) => `0x${byte.toString(16).padStart(2, '0').repeat(20)}`;
/** Bench processes log warnings only (their output is kept for the router's warnings). */
const QUIET = { env: { OTENSOR_LOG: 'warn' }, lineTimeoutMs: 120_000 };

export type NetworkOptions = { honestCount: number; log: (text: string) => void };
export type Network = Awaited<ReturnType<typeof startNetwork>>;

/** Writes the models, starts the router and the honest part of the network, and returns its handles. */
export async function startNetwork({ honestCount, log }: NetworkOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-adversarial-'));
  const models = {
    claimed: join(dir, 'tiny-f32-s1.gguf'),
    q8: join(dir, 'tiny-q8-s1.gguf'),
    seed2: join(dir, 'tiny-f32-s2.gguf'),
    seed3: join(dir, 'tiny-f32-s3.gguf'),
  };
  await writeTinyModel(models.claimed, { seed: 1, type: 'f32' });
  await writeTinyModel(models.q8, { seed: 1, type: 'q8_0' });
  await writeTinyModel(models.seed2, { seed: 2, type: 'f32' });
  await writeTinyModel(models.seed3, { seed: 3, type: 'f32' });
  const routerData = join(dir, 'router');
  await registerModel(routerData, models.claimed, 'tiny');
  const apiKey = createKey(routerData);

  const processes: CliProcess[] = [];
  // If the bench dies halfway, its node processes must not live on.
  const killAll = () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const roles = new Map<string, NodeRole>();
  const wallets = new Map<string, string>();
  const records: string[] = [];
  let connected = 0;

  const router = runCli(
    ['router', 'start', '--port', '0', '--data', routerData, '--queue-limit', '100000'],
    QUIET,
  );
  processes.push(router);
  const [, url] = (await router.line(/router: (http:\/\/\S+)/)) as [string, string];

  const startCli = async (name: string, role: NodeRole, payout: string, extra: string[] = []) => {
    const data = join(dir, name);
    const proc = runCli(
      [
        'node',
        'start',
        '--router',
        url,
        '--model',
        models.claimed,
        '--data',
        data,
        '--threads',
        '1',
        '--slots',
        '1',
        '--wallet',
        payout,
        ...extra,
      ],
      QUIET,
    );
    processes.push(proc);
    connected++;
    await waitForNodes(url, connected, 120_000);
    // The node's id is the address in its data folder.
    const identity = JSON.parse(readFileSync(join(data, 'node-key.json'), 'utf8')) as { address: string };
    const id = identity.address.toLowerCase();
    roles.set(id, role);
    wallets.set(id, payout);
    return { proc, id };
  };

  /** Spawns a cheating node, dormant: loaded, not yet connected (`wake` connects it). */
  const spawnCheater = (
    name: string,
    cheat: CheatKind,
    payout: string,
    extra: Partial<CheaterConfig> = {},
  ) => {
    const record = join(dir, `${name}.jsonl`);
    records.push(record);
    const config: CheaterConfig = {
      router: url,
      model: models.claimed,
      data: join(dir, name),
      wallet: payout,
      cheat,
      record,
      dormant: true,
      ...extra,
    };
    const proc = runCheater(config, QUIET);
    processes.push(proc);
    const loaded = proc.line(/cheater dormant/, 300_000);
    return {
      proc,
      name,
      loaded,
      async wake() {
        await loaded;
        proc.child.kill('SIGHUP');
        const [, id] = (await proc.line(/cheater [\w-]+ connected: (0x[0-9a-fA-F]{40})/)) as [string, string];
        connected++;
        await waitForNodes(url, connected, 120_000);
        roles.set(id.toLowerCase(), name);
        wallets.set(id.toLowerCase(), payout);
        return { proc, id: id.toLowerCase(), name };
      },
    };
  };
  const startCheater = (name: string, cheat: CheatKind, payout: string, extra: Partial<CheaterConfig> = {}) =>
    spawnCheater(name, cheat, payout, extra).wake();

  const stopProc = async (proc: CliProcess) => {
    await stopProcess(proc);
    connected--;
  };
  /** The cheaters of the current shift. */
  let active: { proc: CliProcess; id: string }[] = [];

  // The honest network: workers, one validator; then the colluding validator and the sleeper.
  const honestIds: string[] = [];
  for (let i = 0; i < honestCount; i++)
    honestIds.push((await startCli(`honest-${i}`, 'honest', wallet(0x10 + i))).id);
  await startCli('validator', 'validator', wallet(0x30), ['--role', 'validator']);
  const colludeWallet = wallet(0xcc);
  const shared = join(dir, 'collusion-shared.txt');
  const colludingValidator = await startCheater('colluding-validator', 'collude-validator', colludeWallet, {
    roles: ['validator'],
    swapModel: models.seed3,
    shared,
  });
  roles.set(colludingValidator.id, 'colluding validator');
  const sleeper = await startCheater('sleeper', 'sleeper', wallet(0x40));
  roles.set(sleeper.id, 'sleeper');
  log(`network up: router, ${honestCount} honest workers, 1 validator, 1 colluding validator, 1 sleeper`);

  /** Spawns the cheaters of every shift, dormant: each connects when its shift begins (`beginShift`). */
  const prepareShifts = async (shifts: Shift[]) => {
    let cheaterCount = 0;
    const unitOf = new Map<string, string>();
    const dormant = shifts.map((shift) =>
      shift.units.map((unit) => {
        const payout = wallet(0x50 + cheaterCount);
        return {
          unit,
          members: unit.members.map((member) => {
            const name = `cheater-${++cheaterCount}-${member.cheat}${member.swap ? `-${member.swap}` : ''}`;
            const own = unit.ownWallets ? wallet(0x80 + cheaterCount) : payout;
            return spawnCheater(
              name,
              member.cheat,
              member.cheat === 'collude' && !unit.ownWallets ? colludeWallet : own,
              {
                ...(member.swap ? { swapModel: models[member.swap] } : {}),
                ...(member.cheat === 'collude' ? { shared } : {}),
              },
            );
          }),
        };
      }),
    );
    await Promise.all(dormant.flat().flatMap((u) => u.members.map((m) => m.loaded)));
    log(`${cheaterCount} cheaters loaded, dormant`);
    const beginShift = async (index: number) => {
      const t0 = performance.now();
      for (const cheater of active) await stopProc(cheater.proc);
      active = [];
      const shift = shifts[index];
      if (!shift) return;
      for (const { unit, members } of dormant[index] ?? []) {
        for (const member of members) {
          const cheater = await member.wake();
          unitOf.set(cheater.id, unit.name);
          active.push(cheater);
        }
      }
      if (shift.sleeperTurns) {
        sleeper.proc.child.kill('SIGUSR2');
        unitOf.set(sleeper.id, SLEEPER);
      }
      log(`shift ${index + 1} began (${((performance.now() - t0) / 1000).toFixed(1)} s to change cheaters)`);
    };

    return { beginShift, unitOf };
  };

  /** Reputation as the router reports it, per node (by role and id). */
  const reputation = async () => {
    const reputation: Record<string, unknown> = {};
    for (const [id, role] of roles) {
      const response = await fetch(`${url}/api/nodes/${id}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      if (response.ok) {
        const body = (await response.json()) as {
          reputation_by_model: { score: number; passes: number; fails: number; streak: number }[];
        };
        const r = body.reputation_by_model[0];
        reputation[`${role} ${id.slice(0, 10)}`] = r
          ? { score: Number(r.score.toFixed(3)), passes: r.passes, fails: r.fails, streak: r.streak }
          : null;
      }
    }
    return reputation;
  };

  /** Stops every process (the router last) and returns the router's output lines. */
  const stop = async () => {
    for (const cheater of active) await stopProc(cheater.proc);
    for (const proc of processes.slice(1)) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    await Promise.all(processes.slice(1).map((p) => Promise.race([p.exited, sleep(10_000)])));
    router.child.kill('SIGINT');
    await Promise.race([router.exited, sleep(10_000)]);
    killAll();
    process.off('exit', killAll);
    const routerWarnings = router
      .output()
      .split('\n')
      .filter((l) => l.trim().length > 0);
    return routerWarnings;
  };

  return {
    dir,
    models,
    routerData,
    url,
    apiKey,
    roles,
    wallets,
    records,
    honestIds,
    colludingValidator,
    sleeper,
    prepareShifts,
    reputation,
    stop,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
