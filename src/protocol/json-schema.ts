/**
 * The part of JSON Schema a `jsonl` campaign's records are checked with: `type`, `properties`, `required`,
 * `additionalProperties: false`, `enum`, `minLength`/`maxLength`, `minimum`/`maximum`, `items`. A schema using
 * any other keyword is refused when the campaign is created, so no record passes a rule the router skipped.
 */
export type JsonSchema = {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  description?: string;
  title?: string;
};

const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'enum',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'items',
  'description',
  'title',
  '$schema',
]);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** Why a schema is not one this router can check fully, or null when it is. */
export function schemaProblem(schema: unknown, at = '$'): string | null {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return `${at} is not an object`;
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) return `${at}: the keyword '${key}' is not supported`;
    if (key === 'type' && !TYPES.has(value as string)) return `${at}.type '${String(value)}' is unknown`;
    if (key === 'properties') {
      if (value === null || typeof value !== 'object') return `${at}.properties is not an object`;
      for (const [name, sub] of Object.entries(value)) {
        const problem = schemaProblem(sub, `${at}.properties.${name}`);
        if (problem) return problem;
      }
    }
    if (key === 'items') {
      const problem = schemaProblem(value, `${at}.items`);
      if (problem) return problem;
    }
  }
  return null;
}

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/** The first way `value` breaks `schema`, naming where (`$.field`), or null when it fits. */
export function schemaError(schema: JsonSchema, value: unknown, at = '$'): string | null {
  const type = typeOf(value);
  if (schema.type) {
    const fits =
      schema.type === type ||
      (schema.type === 'integer' && type === 'number' && Number.isInteger(value)) ||
      (schema.type === 'number' && type === 'number');
    if (!fits) return `${at} must be ${schema.type}, not ${type}`;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    return `${at} must be one of ${JSON.stringify(schema.enum)}`;
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      return `${at} is shorter than ${schema.minLength} characters`;
    if (schema.maxLength !== undefined && length > schema.maxLength)
      return `${at} is longer than ${schema.maxLength} characters`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at} is below ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at} is above ${schema.maximum}`;
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries()) {
      const problem = schemaError(schema.items, item, `${at}[${i}]`);
      if (problem) return problem;
    }
  }
  if (type === 'object') {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in record)) return `${at}.${name} is required`;
    for (const [name, field] of Object.entries(record)) {
      const sub = schema.properties?.[name];
      if (sub) {
        const problem = schemaError(sub, field, `${at}.${name}`);
        if (problem) return problem;
      } else if (schema.additionalProperties === false) return `${at}.${name} is not allowed`;
    }
  }
  return null;
}

/** A `text` campaign's JSONL line (issue 12): `{"text": "..."}`, with optional metadata. */
export const TEXT_LINE_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: { text: { type: 'string', minLength: 1 }, metadata: { type: 'object' } },
};
