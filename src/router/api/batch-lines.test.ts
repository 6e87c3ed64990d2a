import { describe, expect, it } from 'vitest';
import { InvalidParameterError, NotFoundError } from '../../protocol/index.js';
import { errorLine, parseLine, splitJsonl, toLineError } from './batch-lines.js';
import { boundaryOf, parseMultipart } from './multipart.js';

const endpoint = '/v1/chat/completions';
const good = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: endpoint,
    body: { model: 'tiny', messages: [{ role: 'user', content: 'hi' }] },
    ...extra,
  });

describe('batch line validation', () => {
  it('splits JSONL into non-blank lines, CRLF or LF', () => {
    expect(splitJsonl('a\r\nb\n\n  \nc\n')).toEqual(['a', 'b', 'c']);
  });

  it('accepts a well-formed line', () => {
    const parsed = parseLine(good('r1'), 0, endpoint, new Set());
    expect(parsed).toMatchObject({ line: 0, customId: 'r1', body: { model: 'tiny' } });
  });

  it('names the custom_id of a line that is not valid JSON when it can be read', () => {
    const parsed = parseLine('{"custom_id": "broken", "method": "POST", ', 3, endpoint, new Set());
    expect(parsed).toMatchObject({ customId: 'broken', error: { code: 'invalid_json', status: 400 } });
    expect(parseLine('not json', 0, endpoint, new Set())).toMatchObject({ customId: null });
  });

  it('names the bad envelope field', () => {
    const seen = new Set<string>();
    expect(parseLine('[1]', 0, endpoint, seen)).toMatchObject({ error: { code: 'invalid_request' } });
    expect(parseLine(good('', {}), 0, endpoint, seen)).toMatchObject({ error: { param: 'custom_id' } });
    expect(parseLine(good('m', { method: 'GET' }), 1, endpoint, seen)).toMatchObject({
      customId: 'm',
      error: { param: 'method' },
    });
    expect(parseLine(good('u', { url: '/v1/embeddings' }), 2, endpoint, seen)).toMatchObject({
      error: { param: 'url', code: 'invalid_url' },
    });
    expect(parseLine(good('b', { body: 'text' }), 3, endpoint, seen)).toMatchObject({
      error: { param: 'body' },
    });
  });

  it('rejects a repeated custom_id but not the first use', () => {
    const seen = new Set<string>();
    expect(parseLine(good('same'), 0, endpoint, seen)).not.toHaveProperty('error');
    expect(parseLine(good('same'), 1, endpoint, seen)).toMatchObject({
      error: { code: 'duplicate_custom_id', param: 'custom_id' },
    });
  });

  it('turns errors into line errors, naming body fields under body.', () => {
    expect(toLineError(new InvalidParameterError('max_tokens', 'bad'))).toEqual({
      status: 400,
      code: 'invalid_parameter',
      message: 'bad',
      param: 'body.max_tokens',
    });
    expect(toLineError(new NotFoundError('model', 'no such model'))).toMatchObject({
      status: 404,
      param: 'model',
    });
  });

  it('writes error lines in the batch output shape', () => {
    const line = JSON.parse(errorLine('c1', 4, { status: 400, code: 'x', message: 'm', param: 'url' }));
    expect(line).toMatchObject({
      custom_id: 'c1',
      response: { status_code: 400, body: { error: { code: 'x', param: 'url' } } },
      error: { code: 'x', message: 'm', line: 5 },
    });
    expect(
      JSON.parse(errorLine(null, 0, { status: null, code: 'x', message: 'm', param: null })).response,
    ).toBe(null);
  });
});

describe('multipart parsing', () => {
  it('reads fields and a file part byte for byte', () => {
    const boundary = '----b0undary';
    const file = Buffer.from('{"a":1}\r\n{"b":2}\n\u00e9');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const parts = parseMultipart(body, boundaryOf(`multipart/form-data; boundary=${boundary}`));
    expect(parts.map((p) => p.name)).toEqual(['purpose', 'file']);
    expect(parts[0]?.data.toString()).toBe('batch');
    expect(parts[1]).toMatchObject({ filename: 'in.jsonl', contentType: 'application/jsonl' });
    expect(parts[1]?.data.equals(file)).toBe(true);
  });

  it('rejects a body without its boundary or closing delimiter, naming the file field', () => {
    expect(() => boundaryOf('application/json')).toThrow(InvalidParameterError);
    expect(() =>
      parseMultipart(Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nv'), 'x'),
    ).toThrow(/closing boundary/);
  });
});
