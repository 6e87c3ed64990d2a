/**
 * A wider, deeper random llama model than the tiny one (same vocabulary), used only to measure how the
 * cost of `likelihood` scoring compares with generation once the model's arithmetic, not per-token
 * overhead, dominates. Its text is noise; its timing is that of a ~30M-parameter model.
 */
import { writeFile } from 'node:fs/promises';
import {
  buildTinyVocab,
  encodeGguf,
  GgmlType,
  type GgufTensor,
  mulberry32,
  TokenType,
} from '../src/models/index.js';

export type MediumModelDims = { nEmbd: number; nLayer: number; nHead: number; nFf: number };

export const MEDIUM_MODEL_DIMS: MediumModelDims = { nEmbd: 512, nLayer: 8, nHead: 8, nFf: 1408 };

/** Writes a Q8_0 model of the given dims with seeded random weights. */
export async function writeMediumModel(path: string, dims = MEDIUM_MODEL_DIMS, seed = 1): Promise<void> {
  const { nEmbd, nLayer, nHead, nFf } = dims;
  const vocab = buildTinyVocab();
  const nVocab = vocab.tokens.length;
  const uniform = mulberry32(seed);
  const random = (count: number, std: number): Float32Array => {
    const out = new Float32Array(count);
    // Uniform with the given standard deviation: cheaper than Gaussian and just as good for timing.
    for (let i = 0; i < count; i++) out[i] = (uniform() * 2 - 1) * std * Math.sqrt(3);
    return out;
  };
  const ones = (count: number): Float32Array => new Float32Array(count).fill(1);
  // Small layer weights keep the residual stream close to the embedding, so the suppression below holds.
  const matrix = (name: string, rowLen: number, rows: number, std = 0.02): GgufTensor => ({
    name,
    dims: [rowLen, rows],
    type: GgmlType.Q8_0,
    data: random(rowLen * rows, std),
  });
  // As in the tiny model: a constant feature in dimension 0 lets output rows push byte and control tokens
  // far down, so the text is whole characters and scoring times a clean pass, not re-tokenization.
  const embd = random(nEmbd * nVocab, 1);
  for (let t = 0; t < nVocab; t++) embd[t * nEmbd] = 4;
  const output = matrix('output.weight', nEmbd, nVocab, 0.4 / Math.sqrt(nEmbd / 64));
  for (let t = 0; t < nVocab; t++) {
    output.data[t * nEmbd] = vocab.types[t] === TokenType.NORMAL ? 0 : -5;
    if (vocab.types[t] !== TokenType.NORMAL) output.data.fill(0, t * nEmbd + 1, (t + 1) * nEmbd);
  }
  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab], type: GgmlType.Q8_0, data: embd },
    { name: 'output_norm.weight', dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
    output,
  ];
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
      matrix(`${p}.attn_q.weight`, nEmbd, nEmbd),
      matrix(`${p}.attn_k.weight`, nEmbd, nEmbd),
      matrix(`${p}.attn_v.weight`, nEmbd, nEmbd),
      matrix(`${p}.attn_output.weight`, nEmbd, nEmbd),
      { name: `${p}.ffn_norm.weight`, dims: [nEmbd], type: GgmlType.F32, data: ones(nEmbd) },
      matrix(`${p}.ffn_gate.weight`, nEmbd, nFf),
      matrix(`${p}.ffn_up.weight`, nEmbd, nFf),
      matrix(`${p}.ffn_down.weight`, nFf, nEmbd),
    );
  }
  const u32 = (value: number) => ({ type: 'uint32', value }) as const;
  const buffer = encodeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: `omnitensor-medium-s${seed}` }],
      ['general.file_type', u32(7)],
      ['general.quantization_version', u32(2)],
      ['llama.vocab_size', u32(nVocab)],
      ['llama.context_length', u32(2048)],
      ['llama.embedding_length', u32(nEmbd)],
      ['llama.block_count', u32(nLayer)],
      ['llama.feed_forward_length', u32(nFf)],
      ['llama.attention.head_count', u32(nHead)],
      ['llama.attention.head_count_kv', u32(nHead)],
      ['llama.rope.dimension_count', u32(nEmbd / nHead)],
      ['llama.rope.freq_base', { type: 'float32', value: 10000 }],
      ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: 1e-5 }],
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
      ['tokenizer.ggml.scores', { type: 'float32[]', value: vocab.scores }],
      ['tokenizer.ggml.token_type', { type: 'int32[]', value: vocab.types }],
      ['tokenizer.ggml.bos_token_id', u32(vocab.bos)],
      ['tokenizer.ggml.eos_token_id', u32(vocab.eos)],
      ['tokenizer.ggml.unknown_token_id', u32(vocab.unk)],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
      ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
      ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: false }],
    ],
    tensors,
  });
  await writeFile(path, buffer);
}
