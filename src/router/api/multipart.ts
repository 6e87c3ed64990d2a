import { InvalidParameterError } from '../../protocol/index.js';

/** One part of a multipart/form-data body: a field, or a file when it has a filename. */
export type FormPart = { name: string; filename: string | null; contentType: string | null; data: Buffer };

/** The boundary from a `multipart/form-data; boundary=...` content type. */
export function boundaryOf(contentType: string | undefined): string {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!contentType?.toLowerCase().startsWith('multipart/form-data') || !boundary) {
    throw new InvalidParameterError('file', 'Upload the file as multipart/form-data with a boundary.');
  }
  return boundary;
}

/** Parses a whole multipart/form-data body (RFC 7578). */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let start = body.indexOf(delimiter);
  if (start < 0) throw new InvalidParameterError('file', 'The multipart body has no part with its boundary.');
  while (true) {
    start += delimiter.length;
    // `--` after a delimiter closes the body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0)
      throw new InvalidParameterError('file', 'The multipart body ends before its closing boundary.');
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0 || headerEnd > next)
      throw new InvalidParameterError('file', 'A multipart part has no headers.');
    const headers = body.subarray(start, headerEnd).toString('utf8').split('\r\n');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const type = headers.find((h) => /^content-type:/i.test(h));
    const name = /\bname="((?:[^"\\]|\\.)*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="((?:[^"\\]|\\.)*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      parts.push({
        name,
        filename: filename ?? null,
        contentType: type ? type.slice(type.indexOf(':') + 1).trim() : null,
        data: body.subarray(headerEnd + 4, next),
      });
    }
    start = next + 2;
  }
  return parts;
}
