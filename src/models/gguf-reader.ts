import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { GGUF_MAGIC, GgufValueType } from './gguf-writer.js';

/**
 * Reads the header, metadata and tensor infos of a GGUF file without touching
 * tensor data: real models are gigabytes, the part we need is a few MB at most.
 */

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export type GgufTensorInfo = { name: string; dims: number[]; type: number; offset: bigint };

export type GgufHeader = {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
};

export type GgufInfo = {
  architecture: string;
  name: string;
  /** e.g. 'Q8_0', 'F32', 'Q4_K_M'; derived from general.file_type (or tensor types when absent). */
  quantization: string;
  /** Sum of the element counts of all tensors. */
  parameterCount: number;
  /** Training context length from `<arch>.context_length`, 0 when absent. */
  contextLength: number;
  sizeBytes: number;
};

/** llama_ftype names indexed by general.file_type ('-' marks ids llama.cpp retired). */
const FILE_TYPES = (
  'F32 F16 Q4_0 Q4_1 Q4_1_SOME_F16 - - Q8_0 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S ' +
  'Q5_K_M Q6_K IQ2_XXS IQ2_XS Q2_K_S IQ3_XS IQ3_XXS IQ1_S IQ4_NL IQ3_S IQ3_M IQ2_S IQ2_M IQ4_XS IQ1_M ' +
  'BF16 Q4_0_4_4 Q4_0_4_8 Q4_0_8_8 TQ1_0 TQ2_0 MXFP4_MOE'
).split(' ');

/** ggml_type names indexed by tensor type, used only when general.file_type is missing. */
const TENSOR_TYPES = (
  'F32 F16 Q4_0 Q4_1 - - Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ2_XXS IQ2_XS IQ3_XXS ' +
  'IQ1_S IQ4_NL IQ3_S IQ2_S IQ4_XS I8 I16 I32 I64 F64 IQ1_M BF16 - - - TQ1_0 TQ2_0 - - - MXFP4'
).split(' ');

const typeName = (names: string[], id: number, prefix: string): string => {
  const n = names[id];
  return n && n !== '-' ? n : `${prefix}${id}`;
};

/** Byte width of each fixed-size metadata value type. */
const VALUE_WIDTH: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

const CHUNK = 1 << 20;
const MAX_STRING = 1 << 28; // a corrupt length must not make us allocate gigabytes

/** Sequential little-endian reader over a file handle with a refillable buffer. */
class FileCursor {
  private buf = Buffer.alloc(0);
  private pos = 0;
  private fileOffset = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly fileSize: number,
  ) {}

  /** Makes sure n bytes are buffered; only awaits when a refill is needed. */
  private async fill(n: number): Promise<void> {
    const rest = this.buf.subarray(this.pos);
    const size = Math.max(CHUNK, n);
    const next = Buffer.alloc(size);
    rest.copy(next, 0);
    let have = rest.length;
    while (have < n) {
      const { bytesRead } = await this.fh.read(next, have, size - have, this.fileOffset);
      if (bytesRead === 0) throw new Error('GGUF: unexpected end of file');
      this.fileOffset += bytesRead;
      have += bytesRead;
    }
    this.buf = next.subarray(0, have);
    this.pos = 0;
  }
  private async need(n: number): Promise<void> {
    if (this.buf.length - this.pos < n) await this.fill(n);
  }

  async u8(): Promise<number> {
    await this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  async u32(): Promise<number> {
    await this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  async u64(): Promise<bigint> {
    await this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A u64 count or length that must fit comfortably in a JS number. */
  async size(): Promise<number> {
    const v = await this.u64();
    if (v > BigInt(this.fileSize)) throw new Error(`GGUF: implausible length ${v}`);
    return Number(v);
  }
  async string(): Promise<string> {
    const len = await this.size();
    if (len > MAX_STRING) throw new Error(`GGUF: string too long (${len})`);
    await this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  async value(type: number): Promise<GgufValue> {
    if (type === GgufValueType.STRING) return this.string();
    if (type === GgufValueType.ARRAY) {
      const itemType = await this.u32();
      const count = await this.size();
      const items: GgufValue[] = [];
      for (let i = 0; i < count; i++) items.push(await this.value(itemType));
      return items;
    }
    const w = VALUE_WIDTH[type];
    if (w === undefined) throw new Error(`GGUF: unknown metadata value type ${type}`);
    await this.need(w);
    const b = this.buf;
    const p = this.pos;
    this.pos += w;
    switch (type) {
      case GgufValueType.UINT8:
        return b.readUInt8(p);
      case GgufValueType.INT8:
        return b.readInt8(p);
      case GgufValueType.UINT16:
        return b.readUInt16LE(p);
      case GgufValueType.INT16:
        return b.readInt16LE(p);
      case GgufValueType.UINT32:
        return b.readUInt32LE(p);
      case GgufValueType.INT32:
        return b.readInt32LE(p);
      case GgufValueType.FLOAT32:
        return b.readFloatLE(p);
      case GgufValueType.BOOL:
        return b.readUInt8(p) !== 0;
      case GgufValueType.UINT64:
        return b.readBigUInt64LE(p);
      case GgufValueType.INT64:
        return b.readBigInt64LE(p);
      default:
        return b.readDoubleLE(p);
    }
  }
}

/** Parses everything before the tensor data. */
export async function readGgufHeader(path: string): Promise<GgufHeader & { sizeBytes: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const cur = new FileCursor(fh, size);
    if ((await cur.u32()) !== GGUF_MAGIC) throw new Error(`${path} is not a GGUF file`);
    const version = await cur.u32();
    // v1 used 32-bit counts and is long obsolete; llama.cpp itself no longer loads it.
    if (version < 2 || version > 3) throw new Error(`unsupported GGUF version ${version}`);
    const tensorCount = await cur.size();
    const kvCount = await cur.size();
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = await cur.string();
      metadata.set(key, await cur.value(await cur.u32()));
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = await cur.string();
      const nDims = await cur.u32();
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(Number(await cur.u64()));
      const type = await cur.u32();
      tensors.push({ name, dims, type, offset: await cur.u64() });
    }
    return { version, metadata, tensors, sizeBytes: size };
  } finally {
    await fh.close();
  }
}

function asNumber(v: GgufValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function quantizationOf(header: GgufHeader): string {
  const ftype = asNumber(header.metadata.get('general.file_type'));
  if (ftype !== undefined) return typeName(FILE_TYPES, ftype, 'ftype');
  // No file_type: report the most common type among the weight matrices.
  const counts = new Map<number, number>();
  for (const t of header.tensors) {
    if (t.dims.length >= 2) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1])[0];
  return top ? typeName(TENSOR_TYPES, top[0], 'type') : 'unknown';
}

export async function readGgufInfo(path: string): Promise<GgufInfo> {
  const header = await readGgufHeader(path);
  const meta = header.metadata;
  const arch = meta.get('general.architecture');
  const architecture = typeof arch === 'string' ? arch : 'unknown';
  const name = meta.get('general.name');
  let parameterCount = 0;
  for (const t of header.tensors) parameterCount += t.dims.reduce((a, b) => a * b, 1);
  return {
    architecture,
    name: typeof name === 'string' && name ? name : basename(path).replace(/\.gguf$/i, ''),
    quantization: quantizationOf(header),
    parameterCount,
    contextLength: asNumber(meta.get(`${architecture}.context_length`)) ?? 0,
    sizeBytes: header.sizeBytes,
  };
}
