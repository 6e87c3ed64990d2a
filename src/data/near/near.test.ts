import { describe, expect, it } from 'vitest';
import {
  decodeFingerprint,
  encodeFingerprint,
  type Fingerprint,
  fingerprintOf,
  nearness,
} from './fingerprint.js';
import { jpg, checker as other, png, scene } from './test-pictures.js';

const imageFp = (bytes: Buffer, format: string) => fingerprintOf('image', format, bytes) as Fingerprint;

describe('near-duplicate pictures', () => {
  const original = png(240, 180, scene);
  const base = imageFp(original, 'png');

  it('catches the same picture re-encoded as JPEG, resized, or both', () => {
    const variants = {
      jpeg: imageFp(jpg(240, 180, scene, 60), 'jpeg'),
      half: imageFp(png(120, 90, scene), 'png'),
      largerJpeg: imageFp(jpg(400, 300, scene, 40), 'jpeg'),
    };
    for (const [name, f] of Object.entries(variants))
      expect(nearness(f, base), name).toMatch(/of 64 bits apart/);
  });

  it('does not confuse a different picture, nor two flat pictures of different colours', () => {
    expect(nearness(imageFp(png(240, 180, other), 'png'), base)).toBeNull();
    expect(nearness(imageFp(jpg(240, 180, other, 80), 'jpeg'), base)).toBeNull();
    const red = imageFp(
      png(50, 50, () => [220, 20, 20]),
      'png',
    );
    const blue = imageFp(
      png(50, 50, () => [20, 20, 220]),
      'png',
    );
    expect(nearness(red, blue)).toBeNull();
  });

  it('keeps a fingerprint through its stored form, and makes none for what it cannot decode', () => {
    expect(nearness(decodeFingerprint(encodeFingerprint(base)) as Fingerprint, base)).toBe(
      'perceptual hash 0 of 64 bits apart',
    );
    expect(fingerprintOf('image', 'png', Buffer.from('\x89PNG\r\n\x1a\n broken'))).toBeNull();
    expect(fingerprintOf('image', 'gif', Buffer.from('GIF89a'))).toBeNull();
    expect(fingerprintOf('audio', 'wav', Buffer.from('RIFF'))).toBeNull();
  });
});

describe('near-duplicate texts', () => {
  const text =
    'The river rose overnight and the bridge on the north road was closed; the council says it will reopen ' +
    'on Friday once engineers have checked the supports and cleared the debris from the arches.';
  const fp = (t: string) => fingerprintOf('text', 'utf-8', Buffer.from(t)) as Fingerprint;

  it('catches case, punctuation and spacing changes and a changed word', () => {
    expect(nearness(fp(text.toUpperCase().replace(/[;.,]/g, '  ')), fp(text))).toMatch(/100 %/);
    expect(nearness(fp(text.replace('Friday', 'Saturday')), fp(text))).not.toBeNull();
    const stored = decodeFingerprint(encodeFingerprint(fp(text))) as Fingerprint;
    expect(nearness(stored, fp(text))).toMatch(/100 %/);
  });

  it('lets a different text on the same subject through', () => {
    const another =
      'Engineers from the council inspected the north road bridge after the flood and found the supports ' +
      'sound, so traffic will return next week while the arches are repaired.';
    expect(nearness(fp(another), fp(text))).toBeNull();
  });
});
