import { writeFile } from 'node:fs/promises';
import { encodeGguf, GgmlType, type GgufMetaValue, type GgufTensor } from './gguf-writer.js';
import { buildTinyVocab, TokenType } from './tiny-vocab.js';

/**
 * A tiny llama-architecture model with seeded random weights, small enough to
 * generate quickly on one CPU core and deterministic down to the byte, so tests
 * and demos can use a real GGUF model without downloading anything.
 */

export type TinyModelOptions = { seed?: number; type?: 'q8_0' | 'f32' };

export const TINY_MODEL_DIMS = {
  nEmbd: 64,
  nLayer: 2,
  nHead: 4,
  nHeadKv: 4,
  nFf: 128,
  contextLength: 2048,
  rmsEps: 1e-5,
} as const;

const LLAMA_FTYPE_ALL_F32 = 0;
const LLAMA_FTYPE_MOSTLY_Q8_0 = 7;

/**
 * The output layer has no bias, so to steer the sampler away from some tokens
 * every token embedding carries a constant BIAS_FEATURE in dimension 0; after the
 * final RMS norm that dimension stays large and positive. Rows of output.weight
 * for suppressed tokens put SUPPRESS_WEIGHT there (and zeros elsewhere), which
 * gives them a logit around -15 while normal tokens sit around 0 +- 3.
 * Suppressed: <unk>, <s>, </s> (so generation normally runs to max_tokens) and
 * every byte token except <0x0A> (so sampled text is valid UTF-8 with newlines).
 */
const BIAS_FEATURE = 4;
const SUPPRESS_WEIGHT = -5;
const OUTPUT_STD = 0.4;
const LAYER_STD = 0.08;

/** mulberry32: tiny, fast and fully determined by its 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples via Box-Muller on top of a uniform PRNG. */
function normalSampler(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1], keeps log finite
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function createTinyModel(opts: TinyModelOptions = {}): Buffer {
  const seed = opts.seed ?? 1;
  const type = opts.type ?? 'q8_0';
  const matType = type === 'q8_0' ? GgmlType.Q8_0 : GgmlType.F32;
  const { nEmbd, nLayer, nHead, nHeadKv, nFf, contextLength, rmsEps } = TINY_MODEL_DIMS;
  const nEmbdKv = (nEmbd / nHead) * nHeadKv;
  const vocab = buildTinyVocab();
  const nVocab = vocab.tokens.length;
  const randn = normalSampler(mulberry32(seed));

  const random = (count: number, std: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = randn() * std;
    return out;
  };
  const ones = (count: number): Float32Array => new Float32Array(count).fill(1);
  const matrix = (name: string, rowLen: number, rows: number, std: number): GgufTensor => ({
    name,
    dims: [rowLen, rows],
    type: matType,
    data: random(rowLen * rows, std),
  });

  const embd = random(nEmbd * nVocab, 1);
  for (let t = 0; t < nVocab; t++) embd[t * nEmbd] = BIAS_FEATURE;

  const output = random(nEmbd * nVocab, OUTPUT_STD);
  const newline = vocab.byteBase + 0x0a;
  for (let t = 0; t < nVocab; t++) {
    const row = t * nEmbd;
    output[row] = 0;
    if (vocab.types[t] === TokenType.NORMAL || t === newline) continue;
    output.fill(0, row, row + nEmbd);
    output[row] = SUPPRESS_WEIGHT;
  }

  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab], type: matType, data: embd },
    { name: 'output_norm.weight', dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
    { name: 'output.weight', dims: [nEmbd, nVocab], type: matType, data: output },
  ];
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
      matrix(`${p}.attn_q.weight`, nEmbd, nEmbd, LAYER_STD),
      matrix(`${p}.attn_k.weight`, nEmbd, nEmbdKv, LAYER_STD),
      matrix(`${p}.attn_v.weight`, nEmbd, nEmbdKv, LAYER_STD),
      matrix(`${p}.attn_output.weight`, nEmbd, nEmbd, LAYER_STD),
      { name: `${p}.ffn_norm.weight`, dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
      matrix(`${p}.ffn_gate.weight`, nEmbd, nFf, LAYER_STD),
      matrix(`${p}.ffn_up.weight`, nEmbd, nFf, LAYER_STD),
      matrix(`${p}.ffn_down.weight`, nFf, nEmbd, LAYER_STD),
    );
  }

  const u32 = (value: number): GgufMetaValue => ({ type: 'uint32', value });
  const metadata: Array<readonly [string, GgufMetaValue]> = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: `omnitensor-tiny-s${seed}` }],
    ['general.file_type', u32(type === 'q8_0' ? LLAMA_FTYPE_MOSTLY_Q8_0 : LLAMA_FTYPE_ALL_F32)],
    ['general.quantization_version', u32(2)],
    ['llama.vocab_size', u32(nVocab)],
    ['llama.context_length', u32(contextLength)],
    ['llama.embedding_length', u32(nEmbd)],
    ['llama.block_count', u32(nLayer)],
    ['llama.feed_forward_length', u32(nFf)],
    ['llama.attention.head_count', u32(nHead)],
    ['llama.attention.head_count_kv', u32(nHeadKv)],
    ['llama.rope.dimension_count', u32(nEmbd / nHead)],
    ['llama.rope.freq_base', { type: 'float32', value: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: rmsEps }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'float32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'int32[]', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', u32(vocab.bos)],
    ['tokenizer.ggml.eos_token_id', u32(vocab.eos)],
    ['tokenizer.ggml.unknown_token_id', u32(vocab.unk)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    // No implicit leading "▁": keeps tokenize/detokenize an exact round trip.
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: false }],
  ];
  return encodeGguf({ metadata, tensors });
}

export async function writeTinyModel(path: string, opts: TinyModelOptions = {}): Promise<void> {
  await writeFile(path, createTinyModel(opts));
}
