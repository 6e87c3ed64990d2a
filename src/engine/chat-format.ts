import {
  type ChatHistoryItem,
  type ChatWrapper,
  GeneralChatWrapper,
  type LlamaModel,
  type LlamaText,
  resolveChatWrapper,
  type Token,
} from 'node-llama-cpp';
import type { ChatMessage } from './types.js';

/**
 * The model's own chat template when the GGUF has one (node-llama-cpp maps known
 * templates to specialised wrappers and runs others through Jinja); otherwise a
 * plain generic "### User / ### Response" layout.
 */
export function chatWrapperFor(model: LlamaModel): ChatWrapper {
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  if (typeof template === 'string' && template.length > 0) return resolveChatWrapper(model);
  return new GeneralChatWrapper();
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'assistant'
      ? { type: 'model', response: [m.content] }
      : m.role === 'system'
        ? { type: 'system', text: m.content }
        : { type: 'user', text: m.content },
  );
  // The last model item is the response being generated: an empty one opens a new
  // assistant turn, a trailing assistant message is continued (prefill).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/**
 * Renders messages to prompt tokens and the template's end-of-turn stop triggers.
 * The rendered text may start with BOS; LlamaCompletion prepends BOS itself, so
 * a leading one is dropped here to avoid sending it twice.
 */
export function renderChat(
  model: LlamaModel,
  wrapper: ChatWrapper,
  messages: ChatMessage[],
): { tokens: Token[]; stopTriggers: LlamaText[] } {
  const state = wrapper.generateContextState({ chatHistory: toHistory(messages) });
  const tokens = state.contextText.tokenize(model.tokenizer);
  if (model.tokens.shouldPrependBosToken && tokens[0] === model.tokens.bos) tokens.shift();
  return { tokens, stopTriggers: state.stopGenerationTriggers };
}
