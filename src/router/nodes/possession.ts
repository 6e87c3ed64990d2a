import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { possessionDigest } from '../../models/index.js';
import type { ModelAnnouncement, ProveMessage } from '../../protocol/index.js';
import type { ModelStore } from '../../store/index.js';

export type Challenge = { message: ProveMessage; expected: Promise<string> };

const RANGE_BYTES = 64 * 1024;

/**
 * Challenges for the models a node announces that this router holds itself: a random range and nonce
 * per model, with the digest the router expects. Models the router has no file for cannot be checked
 * this way and are taken on the node's signed word (see docs/architecture.md).
 */
export function possessionChallenges(models: ModelStore, announced: ModelAnnouncement[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const model of announced) {
    const path = models.get(model.sha256)?.path;
    if (!path || !existsSync(path)) continue;
    const size = statSync(path).size;
    const length = Math.min(RANGE_BYTES, size);
    const offset = Math.floor(Math.random() * Math.max(1, size - length));
    const nonce = randomBytes(16).toString('hex');
    challenges.push({
      message: { type: 'prove', sha256: model.sha256, offset, length, nonce },
      expected: possessionDigest(path, offset, length, nonce),
    });
  }
  return challenges;
}
