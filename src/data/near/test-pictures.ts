import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Pictures drawn for tests: a painter gives each pixel's colour from its position (0..1, 0..1). */
export type Painter = (x: number, y: number) => [number, number, number];

export function paint(width: number, height: number, at: Painter): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = at(x / width, y / height);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  return data;
}

export function png(width: number, height: number, at: Painter): Buffer {
  const image = new PNG({ width, height });
  paint(width, height, at).copy(image.data);
  return PNG.sync.write(image);
}

export const jpg = (width: number, height: number, at: Painter, quality: number) =>
  Buffer.from(jpeg.encode({ width, height, data: paint(width, height, at) }, quality).data);

/** A landscape: sky getting lighter to the right, a dark sun, a bright field at the bottom. */
export const scene: Painter = (x, y) => {
  if ((x - 0.7) ** 2 + (y - 0.3) ** 2 < 0.02) return [40, 30, 20];
  if (y > 0.7) return [90 + 120 * x, 200, 60];
  return [60 + 150 * x, 120 + 100 * y, 230];
};

/** Another picture: a checker of squares over a vertical ramp. */
export const checker: Painter = (x, y) =>
  (Math.floor(x * 4) + Math.floor(y * 3)) % 2 === 0 ? [250 * y, 40, 40] : [30, 200 - 150 * y, 90];
