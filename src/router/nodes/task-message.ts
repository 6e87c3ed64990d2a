import type { TaskMessage } from '../../protocol/index.js';
import type { TaskRecord } from '../../store/index.js';
import type { Lease } from '../tasks/scheduler.js';

/**
 * The message that hands a leased task to its node. It is built field by field, never by spreading the
 * record, so what identifies the user (the API key's id and so its account, the session, the idempotency
 * key) stays in the router: a node learns the work and the model, not whose work it is.
 */
export function taskMessageFor(lease: Lease, record: Pick<TaskRecord, 'input'>): TaskMessage {
  return {
    type: 'task',
    taskId: lease.task.id,
    attempt: lease.attempt,
    modelSha256: lease.task.modelSha256,
    input: record.input,
    deadline: lease.deadline,
  };
}
