import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGgufHeader, readGgufInfo } from './gguf-reader.js';
import {
  dequantizeQ8_0,
  encodeGguf,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  GgmlType,
  quantizeQ8_0,
} from './gguf-writer.js';
import { sha256File } from './hash.js';
import { createTinyModel, mulberry32, TINY_MODEL_DIMS, writeTinyModel } from './tiny-model.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny model', () => {
  it('is bit-identical for the same seed and differs across seeds', async () => {
    const a = createTinyModel({ seed: 7 });
    const b = createTinyModel({ seed: 7 });
    const c = createTinyModel({ seed: 8 });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    await writeTinyModel(join(dir, 'a.gguf'), { seed: 7 });
    await writeTinyModel(join(dir, 'b.gguf'), { seed: 7 });
    await writeTinyModel(join(dir, 'c.gguf'), { seed: 8 });
    const [ha, hb, hc] = await Promise.all(['a', 'b', 'c'].map((n) => sha256File(join(dir, `${n}.gguf`))));
    expect(ha).toMatch(/^[0-9a-f]{64}$/);
    expect(ha).toBe(hb);
    expect(ha).not.toBe(hc);
  });

  it('is read back by readGgufInfo', async () => {
    const path = join(dir, 'q8.gguf');
    await writeTinyModel(path, { seed: 3 });
    const info = await readGgufInfo(path);
    const { nEmbd, nLayer, nFf } = TINY_MODEL_DIMS;
    const header = await readGgufHeader(path);
    const nVocab = (header.metadata.get('tokenizer.ggml.tokens') as string[]).length;
    const perLayer = 2 * nEmbd + 4 * nEmbd * nEmbd + 3 * nEmbd * nFf;
    expect(info).toMatchObject({
      architecture: 'llama',
      name: 'omnitensor-tiny-s3',
      quantization: 'Q8_0',
      contextLength: TINY_MODEL_DIMS.contextLength,
      parameterCount: 2 * nVocab * nEmbd + nEmbd + nLayer * perLayer,
    });
    expect(info.sizeBytes).toBe(createTinyModel({ seed: 3 }).length);
    const f32 = join(dir, 'f32.gguf');
    await writeTinyModel(f32, { seed: 3, type: 'f32' });
    expect((await readGgufInfo(f32)).quantization).toBe('F32');
  });

  it('agrees with node-llama-cpp own GGUF parser', async () => {
    const { readGgufFileInfo } = await import('node-llama-cpp');
    const path = join(dir, 'q8.gguf');
    const theirs = await readGgufFileInfo(path, { readTensorInfo: true });
    const ours = await readGgufHeader(path);
    expect(ours.tensors.map((t) => t.name)).toEqual(theirs.fullTensorInfo?.map((t) => t.name));
    expect(ours.metadata.get('llama.block_count')).toBe(theirs.metadata.llama?.block_count);
  });
});

describe('gguf reader', () => {
  it('handles uint64, int64, float64, nested arrays and missing file_type', async () => {
    // Hand-assembled header using value types our writer does not emit.
    const parts: Buffer[] = [];
    const u32 = (v: number) => parts.push(Buffer.from(new Uint32Array([v]).buffer));
    const u64 = (v: bigint) => parts.push(Buffer.from(new BigUint64Array([v]).buffer));
    const str = (s: string) => {
      u64(BigInt(Buffer.byteLength(s)));
      parts.push(Buffer.from(s));
    };
    u32(0x46554747);
    u32(3);
    u64(1n);
    u64(5n);
    str('general.architecture');
    u32(8);
    str('qwen2');
    str('qwen2.context_length');
    u32(10);
    u64(32768n);
    str('x.i64');
    u32(11);
    parts.push(Buffer.from(new BigInt64Array([-5n]).buffer));
    str('x.f64');
    u32(12);
    parts.push(Buffer.from(new Float64Array([1.5]).buffer));
    str('x.nested');
    u32(9);
    u32(9); // array of arrays
    u64(2n);
    for (const row of [[1, 2], [3]]) {
      u32(0); // uint8 items
      u64(BigInt(row.length));
      parts.push(Buffer.from(row));
    }
    str('w');
    u32(2);
    u64(64n);
    u64(10n);
    u32(12); // Q4_K
    u64(0n);
    const path = join(dir, 'hand.gguf');
    await writeFile(path, Buffer.concat(parts));
    const header = await readGgufHeader(path);
    expect(header.metadata.get('x.i64')).toBe(-5n);
    expect(header.metadata.get('x.f64')).toBe(1.5);
    expect(header.metadata.get('x.nested')).toEqual([[1, 2], [3]]);
    const info = await readGgufInfo(path);
    expect(info).toMatchObject({
      architecture: 'qwen2',
      name: 'hand',
      quantization: 'Q4_K',
      contextLength: 32768,
      parameterCount: 640,
    });
  });

  it('rejects non-GGUF files', async () => {
    const path = join(dir, 'junk.bin');
    await writeFile(path, Buffer.from('not a model at all'));
    await expect(readGgufInfo(path)).rejects.toThrow(/not a GGUF/);
  });
});

describe('Q8_0 and f16', () => {
  it('round-trips values within half a quantization step', () => {
    const rand = mulberry32(42);
    const data = new Float32Array(32 * 8).map(() => (rand() - 0.5) * 6);
    const back = dequantizeQ8_0(quantizeQ8_0(data));
    for (let b = 0; b < 8; b++) {
      const block = data.subarray(b * 32, b * 32 + 32);
      const step = Math.max(...block.map(Math.abs)) / 127;
      for (let i = 0; i < 32; i++) {
        expect(Math.abs((back[b * 32 + i] ?? 0) - (block[i] ?? 0))).toBeLessThanOrEqual(
          step * 0.5 + step * 0.01,
        );
      }
    }
  });

  it('converts f16 exactly for representable values', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 2 ** -24, 0.099975586]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBeCloseTo(v, 6);
    }
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
  });

  it('aligns tensor data', () => {
    const buf = encodeGguf({
      metadata: [['general.architecture', { type: 'string', value: 'x' }]],
      tensors: [
        { name: 'a', dims: [3], type: GgmlType.F32, data: new Float32Array([1, 2, 3]) },
        { name: 'b', dims: [32], type: GgmlType.Q8_0, data: new Float32Array(32).fill(1) },
      ],
    });
    expect(buf.length % 32).toBe(0);
  });
});
