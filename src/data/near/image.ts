import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/**
 * Near-duplicate pictures by a perceptual hash of their decoded pixels (docs/data.md, "Near-duplicates"): the
 * picture shrunk to a 9 x 8 grey grid by averaging, then dHash's 64 bits (is each cell darker than its right
 * neighbour). Re-encoding, resizing and mild compression keep the grid, so they keep the hash; another
 * picture flips about half the bits. The grid itself is kept too: dHash is blind to flat pictures (every
 * solid colour hashes to zero), the grid's grey levels are not.
 */

export const GRID_W = 9;
export const GRID_H = 8;
/** At most this many of dHash's 64 bits may differ... */
export const DHASH_MAX_BITS = 10;
/** ...and the grids' grey levels may differ by this much on average (of 255). */
export const GRID_MAX_MEAN_DIFF = 20;
/** Pictures larger than this are not decoded (memory): they are checked by their exact bytes only. */
export const MAX_PIXELS = 40_000_000;

export type ImageHash = { dhash: Buffer; grid: Buffer };

type Pixels = { width: number; height: number; data: Uint8Array | Buffer };

function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** RGBA pixels of a PNG or JPEG, or null (another format, too large, or undecodable). */
export function decode(bytes: Buffer, format: string): Pixels | null {
  try {
    if (format === 'png') {
      const size = pngSize(bytes);
      if (!size || size.width * size.height > MAX_PIXELS) return null;
      return PNG.sync.read(bytes);
    }
    if (format === 'jpeg')
      return jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_PIXELS / 1_000_000,
        maxMemoryUsageInMB: 512,
      });
  } catch {
    return null;
  }
  return null;
}

/** The 9 x 8 grid of mean grey levels (each source pixel counted once, in the cell its position falls in). */
export function greyGrid(p: Pixels): Buffer {
  const sums = new Float64Array(GRID_W * GRID_H);
  const counts = new Uint32Array(GRID_W * GRID_H);
  const columns = Uint8Array.from({ length: p.width }, (_, x) =>
    Math.min(GRID_W - 1, Math.floor((x * GRID_W) / p.width)),
  );
  for (let y = 0; y < p.height; y++) {
    const row = Math.min(GRID_H - 1, Math.floor((y * GRID_H) / p.height)) * GRID_W;
    for (let x = 0; x < p.width; x++) {
      const cell = row + (columns[x] as number);
      const o = (y * p.width + x) * 4;
      const alpha = (p.data[o + 3] as number) / 255;
      // Transparent pixels count as white, as a viewer on a white page shows them.
      const grey =
        0.299 * (p.data[o] as number) + 0.587 * (p.data[o + 1] as number) + 0.114 * (p.data[o + 2] as number);
      sums[cell] = (sums[cell] as number) + grey * alpha + 255 * (1 - alpha);
      counts[cell] = (counts[cell] as number) + 1;
    }
  }
  return Buffer.from(Array.from(sums, (s, i) => Math.round(s / Math.max(1, counts[i] as number))));
}

/** dHash of a grid: bit (row, x) is set when the cell is darker than its right neighbour. */
export function dhashOf(grid: Buffer): Buffer {
  const bits = Buffer.alloc(8);
  for (let y = 0; y < GRID_H; y++)
    for (let x = 0; x < GRID_W - 1; x++)
      if ((grid[y * GRID_W + x] as number) < (grid[y * GRID_W + x + 1] as number))
        bits[y] = (bits[y] as number) | (1 << x);
  return bits;
}

/** The perceptual hash of a PNG or JPEG, or null when it cannot be decoded here. */
export function imageHash(bytes: Buffer, format: string): ImageHash | null {
  const pixels = decode(bytes, format);
  if (!pixels || pixels.width === 0 || pixels.height === 0) return null;
  const grid = greyGrid(pixels);
  return { dhash: dhashOf(grid), grid };
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b > 0; b >>= 1) n += b & 1;
  return n;
}

/** Differing dHash bits and the grids' mean grey difference. */
export function imageDistance(a: ImageHash, b: ImageHash): { bits: number; meanDiff: number } {
  let bits = 0;
  for (let i = 0; i < 8; i++) bits += popcount((a.dhash[i] as number) ^ (b.dhash[i] as number));
  let diff = 0;
  for (let i = 0; i < a.grid.length; i++) diff += Math.abs((a.grid[i] as number) - (b.grid[i] as number));
  return { bits, meanDiff: diff / a.grid.length };
}

export function imagesNear(a: ImageHash, b: ImageHash): boolean {
  const d = imageDistance(a, b);
  return d.bits <= DHASH_MAX_BITS && d.meanDiff <= GRID_MAX_MEAN_DIFF;
}
