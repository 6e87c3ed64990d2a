import type { MachineOpinionView } from '../protocol/index.js';

/** A machine pre-review's opinion in one line (a hint for the person reviewing, never a vote), or null. */
export function opinionLine(o: MachineOpinionView | null | undefined): string | null {
  if (!o) return null;
  if (o.status === 'pending') return `machine opinion (${o.model}): pending`;
  if (o.status === 'failed') return `machine opinion (${o.model}): none (${o.reason ?? 'failed'})`;
  const words = (o.answer ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
  return `machine opinion (${o.model}, a hint, not a vote): ${o.verdict}${words ? ` - "${words}"` : ''}`;
}
