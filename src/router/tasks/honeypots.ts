/**
 * Known-answer tasks for validators (honeypots). After a likelihood check passes, the router may send a
 * validator a `score` task of the same prompt with an output it knows is wrong: this task's own answer,
 * reversed, judged as a greedy check. Reversed text is never the model's greedy choice, so an honest
 * validator's scores always fail it. It has the same shape as any check and a fresh task id. A validator
 * whose scores pass it did not compute them (or lies), and gets a fault verdict of its own.
 *
 * An earlier version swapped in another prompt's answer (reversed) to be harder to spot; that showed one
 * user's words to a validator checking another user's task, so only the task's own answer is used. A
 * validator could learn to spot reversed text; docs/verification.md lists that limit.
 */

/** A known-wrong output for `output`: the text reversed; null when that changes nothing. */
export function corruptOutput(output: string): string | null {
  const reversed = Array.from(output).reverse().join('');
  return reversed !== output && reversed.trim() !== '' ? reversed : null;
}
