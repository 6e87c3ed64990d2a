import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** sha256(nonce || bytes [offset, offset + length) of the file): the answer to a `prove` challenge. */
export async function possessionDigest(
  path: string,
  offset: number,
  length: number,
  nonce: string,
): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, offset);
    return createHash('sha256').update(nonce).update(buffer.subarray(0, bytesRead)).digest('hex');
  } finally {
    await file.close();
  }
}
