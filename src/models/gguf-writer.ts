import { writeFile } from 'node:fs/promises';

/**
 * A small, general GGUF v3 writer (little-endian). It covers what we need to
 * author test models: scalar/string/array metadata and F32 / Q8_0 tensors.
 * Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value type ids. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** ggml tensor type ids (only the two we can write). */
export const GgmlType = { F32: 0, Q8_0: 8 } as const;
export type WritableTensorType = (typeof GgmlType)[keyof typeof GgmlType];

export const Q8_0_BLOCK_SIZE = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK_SIZE;

export type GgufMetaValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'float32[]'; value: readonly number[] | Float32Array }
  | { type: 'int32[]'; value: readonly number[] | Int32Array };

export type GgufTensor = {
  name: string;
  /** GGUF order: dims[0] is the row length (fastest-varying). */
  dims: readonly number[];
  type: WritableTensorType;
  /** Row-major values; length must equal the product of dims. */
  data: Float32Array;
};

export type GgufDocument = {
  metadata: ReadonlyArray<readonly [string, GgufMetaValue]>;
  tensors: readonly GgufTensor[];
  alignment?: number;
};

/** Growable little-endian byte sink; avoids many small Buffer.concat calls. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeMetaValue(sink: ByteSink, v: GgufMetaValue): void {
  switch (v.type) {
    case 'uint32':
      sink.u32(GgufValueType.UINT32);
      sink.u32(v.value);
      return;
    case 'int32':
      sink.u32(GgufValueType.INT32);
      sink.i32(v.value);
      return;
    case 'float32':
      sink.u32(GgufValueType.FLOAT32);
      sink.f32(v.value);
      return;
    case 'bool':
      sink.u32(GgufValueType.BOOL);
      sink.u8(v.value ? 1 : 0);
      return;
    case 'string':
      sink.u32(GgufValueType.STRING);
      sink.str(v.value);
      return;
    case 'string[]':
      sink.u32(GgufValueType.ARRAY);
      sink.u32(GgufValueType.STRING);
      sink.u64(v.value.length);
      for (const s of v.value) sink.str(s);
      return;
    case 'float32[]':
      sink.u32(GgufValueType.ARRAY);
      sink.u32(GgufValueType.FLOAT32);
      sink.u64(v.value.length);
      for (const x of v.value) sink.f32(x);
      return;
    case 'int32[]':
      sink.u32(GgufValueType.ARRAY);
      sink.u32(GgufValueType.INT32);
      sink.u64(v.value.length);
      for (const x of v.value) sink.i32(x);
      return;
  }
}

/** IEEE-754 half from a float, round-to-nearest-even (what ggml's GGML_FP32_TO_FP16 does). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent, which is correct
  return sign | half;
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Q8_0: per 32 values, an f16 scale d = max|x|/127 followed by 32 int8 q = round(x/d). */
export function quantizeQ8_0(data: Float32Array): Buffer {
  if (data.length % Q8_0_BLOCK_SIZE !== 0) {
    throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} values, got ${data.length}`);
  }
  const blocks = data.length / Q8_0_BLOCK_SIZE;
  const out = Buffer.alloc(blocks * Q8_0_BLOCK_BYTES);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK_SIZE;
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) amax = Math.max(amax, Math.abs(data[base + i] ?? 0));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const o = b * Q8_0_BLOCK_BYTES;
    out.writeUInt16LE(float32ToFloat16Bits(d), o);
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
      const q = Math.round((data[base + i] ?? 0) * id);
      out.writeInt8(Math.max(-127, Math.min(127, q)), o + 2 + i);
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = Math.floor(buf.length / Q8_0_BLOCK_BYTES);
  const out = new Float32Array(blocks * Q8_0_BLOCK_SIZE);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    const d = float16BitsToFloat32(buf.readUInt16LE(o));
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) out[b * Q8_0_BLOCK_SIZE + i] = d * buf.readInt8(o + 2 + i);
  }
  return out;
}

function encodeTensor(t: GgufTensor): Buffer {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} need ${count} values, got ${t.data.length}`);
  }
  if (t.type === GgmlType.Q8_0) {
    if ((t.dims[0] ?? 0) % Q8_0_BLOCK_SIZE !== 0) {
      throw new Error(`tensor ${t.name}: Q8_0 row length must be a multiple of ${Q8_0_BLOCK_SIZE}`);
    }
    return quantizeQ8_0(t.data);
  }
  // Copy so the output is little-endian regardless of the Float32Array's backing buffer.
  const out = Buffer.alloc(t.data.length * 4);
  for (let i = 0; i < t.data.length; i++) out.writeFloatLE(t.data[i] ?? 0, i * 4);
  return out;
}

/** Serialises a whole GGUF document into one Buffer. */
export function encodeGguf(doc: GgufDocument): Buffer {
  const alignment = doc.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const metadata = doc.metadata.some(([k]) => k === 'general.alignment')
    ? doc.metadata
    : [...doc.metadata, ['general.alignment', { type: 'uint32', value: alignment }] as const];
  const encoded = doc.tensors.map(encodeTensor);

  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(doc.tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) {
    sink.str(key);
    writeMetaValue(sink, value);
  }
  let offset = 0;
  doc.tensors.forEach((t, i) => {
    sink.str(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(t.type);
    sink.u64(offset);
    const size = encoded[i]?.length ?? 0;
    offset += Math.ceil(size / alignment) * alignment;
  });
  sink.padTo(alignment);
  for (const data of encoded) {
    sink.bytes(data);
    sink.padTo(alignment);
  }
  return sink.toBuffer();
}

export async function writeGguf(path: string, doc: GgufDocument): Promise<void> {
  await writeFile(path, encodeGguf(doc));
}
