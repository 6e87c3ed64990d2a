import { type LlamaModel, type LlamaText, SpecialTokensText, type Token } from 'node-llama-cpp';

/** Token texts, cached per model: detokenized after an anchor token so SentencePiece keeps leading spaces. */
export class TokenPieces {
  private readonly plain = new Map<Token, string>();
  private readonly special = new Map<Token, string>();
  private readonly anchor: Token[];

  constructor(private readonly model: LlamaModel) {
    const nl = model.tokens.nl;
    this.anchor = nl === null ? model.tokenize('a').slice(0, 1) : [nl];
  }

  /** The text a token adds to the output. */
  text(token: Token): string {
    let piece = this.plain.get(token);
    if (piece === undefined) {
      piece = this.model.detokenize([token], false, this.anchor);
      this.plain.set(token, piece);
    }
    return piece;
  }

  /** The token's text with special tokens spelled out, as template stop triggers like `<end>` are. */
  specialText(token: Token): string {
    let piece = this.special.get(token);
    if (piece === undefined) {
      piece = this.model.detokenize([token], true, this.anchor);
      this.special.set(token, piece);
    }
    return piece;
  }
}

/** Template stop triggers as plain strings; built-in special tokens (EOS) are covered by end-of-generation. */
export function stopTriggerStrings(triggers: readonly LlamaText[]): string[] {
  const out: string[] = [];
  for (const trigger of triggers) {
    let text = '';
    let plain = true;
    for (const value of trigger.values) {
      if (typeof value === 'string') text += value;
      else if (value instanceof SpecialTokensText) text += value.value;
      else plain = false;
    }
    if (plain && text.length > 0) out.push(text);
  }
  return out;
}

/** Whether a continuation begins a stop string ('full') or is the start of one ('partial'). */
export function classifyStop(continuation: string, stops: readonly string[]): 'full' | 'partial' | 'none' {
  let result: 'full' | 'partial' | 'none' = 'none';
  for (const s of stops) {
    if (s.length === 0) continue;
    if (continuation.startsWith(s)) return 'full';
    if (continuation.length > 0 && s.startsWith(continuation)) result = 'partial';
  }
  return result;
}
