/**
 * `npm run bench -- near-duplicates` (issue 12): how fast uploads are fingerprinted for near-duplicates, and
 * how often distinct texts are taken for near-duplicates. Texts: 10,000 of 60 words drawn from a 2,000-word
 * vocabulary (MinHash of word 3-grams, then the band lookup the router's index does). Pictures: a 640 x 480
 * scene as PNG and as JPEG, decoded and hashed (dHash of a 9 x 8 grey grid).
 */
import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { fingerprintOf, minhashSimilarity, TEXT_THRESHOLD } from '../src/data/near/index.js';
import { bandKeys } from '../src/data/near/text.js';

const TEXTS = 10_000;
const PICTURES = 40;

function text(i: number): string {
  const words: string[] = [];
  for (let w = 0; w < 60; w++) {
    const h = createHash('sha256').update(`${i}:${w}`).digest();
    words.push(`w${h.readUInt16BE(0) % 2000}`);
  }
  return words.join(' ');
}

function scene(width: number, height: number, shift: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const sun = (x / width - 0.3 - shift) ** 2 + (y / height - 0.4) ** 2 < 0.02;
      const v = sun ? 20 : Math.round(60 + 150 * (x / width) + 40 * (y / height));
      data.set([v, v, Math.min(255, v + 30), 255], (y * width + x) * 4);
    }
  return data;
}

export async function nearDuplicatesBench(): Promise<Record<string, unknown>> {
  const texts = Array.from({ length: TEXTS }, (_, i) => Buffer.from(text(i)));
  const bands = new Map<string, number[]>();
  const signatures: Uint32Array[] = [];
  let falseNear = 0;
  let t0 = performance.now();
  for (const [i, bytes] of texts.entries()) {
    const f = fingerprintOf('text', 'utf-8', bytes);
    if (f?.kind !== 'text') throw new Error('no text fingerprint');
    const keys = bandKeys(f.signature);
    const candidates = new Set(keys.flatMap((k) => bands.get(k) ?? []));
    for (const c of candidates)
      if (minhashSimilarity(f.signature, signatures[c] as Uint32Array) >= TEXT_THRESHOLD) falseNear += 1;
    signatures.push(f.signature);
    for (const k of keys) {
      const list = bands.get(k);
      if (list) list.push(i);
      else bands.set(k, [i]);
    }
  }
  const textsPerSecond = TEXTS / ((performance.now() - t0) / 1000);

  const width = 640;
  const height = 480;
  const pixels = scene(width, height, 0);
  const png = new PNG({ width, height });
  pixels.copy(png.data);
  const pngBytes = PNG.sync.write(png);
  const jpegBytes = Buffer.from(jpeg.encode({ width, height, data: pixels }, 80).data);
  const rate = (bytes: Buffer, format: string) => {
    const start = performance.now();
    for (let i = 0; i < PICTURES; i++) if (!fingerprintOf('image', format, bytes)) throw new Error('no hash');
    return PICTURES / ((performance.now() - start) / 1000);
  };
  t0 = performance.now();
  const figures = {
    texts_per_second: Math.round(textsPerSecond),
    distinct_texts_taken_for_near_duplicates: `${falseNear} of ${TEXTS}`,
    png_640x480_per_second: Math.round(rate(pngBytes, 'png')),
    jpeg_640x480_per_second: Math.round(rate(jpegBytes, 'jpeg')),
    png_bytes: pngBytes.length,
    jpeg_bytes: jpegBytes.length,
  };
  return figures;
}
