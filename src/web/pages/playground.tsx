import { useRef, useState } from 'preact/hooks';
import type { ListView, ModelView, StreamReceiptView } from '../../protocol/views.js';
import { ApiError, post, readEvents } from '../api.js';
import { tokens } from '../format.js';
import { useApi, useSession } from '../hooks.js';
import { NodeLink, Problem, Select } from '../parts.js';

const LEVELS = ['auto', 'none', 'checksum', 'likelihood', 'redundant:2', 'redundant:3'] as const;

type Message = { role: 'user' | 'assistant'; content: string };
type Receipt = StreamReceiptView & {
  taskId: string | null;
  verdict: string | null;
  requested: string | null;
};
type Chunk = {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  omnitensor?: StreamReceiptView;
  error?: { message?: string };
};

/** Chat with a model of the network, streamed, and see how the answer was checked, who answered and the cost. */
export function Playground() {
  const { credential } = useSession();
  const models = useApi<ListView<ModelView>>(credential ? '/v1/models' : null);
  const [model, setModel] = useState('');
  const [level, setLevel] = useState<(typeof LEVELS)[number]>('auto');
  const [maxTokens, setMaxTokens] = useState(64);
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const stop = useRef<AbortController | null>(null);

  if (!credential)
    return (
      <section>
        <h1>Playground</h1>
        <p class="empty">
          Sign in under <a href="#/account">Account</a> (an API key or your wallet) to chat with the network's
          models.
        </p>
      </section>
    );

  const ids = models.data?.data.map((m) => m.id) ?? [];
  const chosen = ids.includes(model) ? model : (ids[0] ?? '');

  const send = async (event: Event) => {
    event.preventDefault();
    if (!draft.trim() || !chosen || busy) return;
    const history: Message[] = [...messages, { role: 'user', content: draft }];
    setMessages([...history, { role: 'assistant', content: '' }]);
    setDraft('');
    setBusy(true);
    setReceipt(null);
    setFailure(null);
    const controller = new AbortController();
    stop.current = controller;
    let answer = '';
    try {
      const response = await post(
        '/v1/chat/completions',
        credential.key,
        { model: chosen, messages: history, max_tokens: maxTokens, stream: true, validation: level },
        controller.signal,
      );
      // The check is settled before the first byte of a checked answer, so the headers carry its verdict.
      const base = {
        taskId: response.headers.get('x-omnitensor-task-id'),
        verdict: response.headers.get('x-omnitensor-verdict'),
        requested: response.headers.get('x-omnitensor-validation'),
      };
      await readEvents(response, (data) => {
        if (data === '[DONE]') return;
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error) throw new ApiError(502, chunk.error.message ?? 'the stream failed', null);
        const piece = chunk.choices?.[0]?.delta?.content;
        if (piece) {
          answer += piece;
          setMessages([...history, { role: 'assistant', content: answer }]);
        }
        if (chunk.omnitensor) setReceipt({ ...base, ...chunk.omnitensor });
      });
    } catch (error) {
      if (!controller.signal.aborted) setFailure(error instanceof Error ? error.message : String(error));
      if (!answer) setMessages(history);
    } finally {
      setBusy(false);
      stop.current = null;
    }
  };

  return (
    <section>
      <h1>Playground</h1>
      {models.error && <Problem error={models.error} what="models" />}
      <div class="controls">
        <Select label="Model" name="model" value={chosen} options={ids} onChange={setModel} />
        <Select label="Validation" name="validation" value={level} options={LEVELS} onChange={setLevel} />
        <label class="select">
          Max tokens
          <input
            type="number"
            name="max_tokens"
            min={1}
            max={4096}
            value={maxTokens}
            onInput={(e) => setMaxTokens(Number((e.target as HTMLInputElement).value) || 1)}
          />
        </label>
      </div>
      {models.data && ids.length === 0 && <p class="empty">No model is being served: start a node.</p>}
      <div class="chat" data-testid="chat">
        {messages.map((m, i) => (
          // Messages are only appended, so the index is a stable key.
          <div key={i} class={`message ${m.role}`}>
            <span class="label">{m.role === 'user' ? 'You' : chosen}</span>
            <p>{m.content || (busy ? '…' : '')}</p>
          </div>
        ))}
      </div>
      {failure && <p class="error">{failure}</p>}
      {receipt && (
        <dl class="receipt" data-testid="receipt">
          <dt>Verdict</dt>
          <dd>
            <span class={receipt.validation?.verdict === 'pass' ? 'badge ok' : 'badge'}>
              {receipt.validation?.verdict ?? receipt.verdict ?? 'unknown'}
            </span>{' '}
            {receipt.validation ? `${receipt.validation.level} (asked: ${receipt.validation.requested})` : ''}
          </dd>
          {receipt.validation && receipt.validation.checked_by.length > 0 && (
            <>
              <dt>Checked by</dt>
              <dd>
                {receipt.validation.checked_by.map((id) =>
                  id.startsWith('0x') ? <NodeLink key={id} id={id} /> : <span key={id}>{id} </span>,
                )}
              </dd>
            </>
          )}
          <dt>Answered by</dt>
          <dd>
            <NodeLink id={receipt.node} />
          </dd>
          <dt>Cost</dt>
          <dd>{receipt.cost === undefined ? 'free' : `${tokens(receipt.cost)} tokens`}</dd>
          {receipt.taskId && (
            <>
              <dt>Task</dt>
              <dd class="mono">{receipt.taskId}</dd>
            </>
          )}
        </dl>
      )}
      <form class="compose" onSubmit={send}>
        <textarea
          name="prompt"
          rows={3}
          placeholder="Ask the network…"
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
        />
        <div class="row">
          <button type="submit" disabled={busy || !chosen || !draft.trim()}>
            {busy ? 'Answering…' : 'Send'}
          </button>
          {busy && (
            <button type="button" class="secondary" onClick={() => stop.current?.abort()}>
              Stop
            </button>
          )}
          {messages.length > 0 && !busy && (
            <button type="button" class="secondary" onClick={() => setMessages([])}>
              New chat
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
