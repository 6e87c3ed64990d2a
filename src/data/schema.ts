// The JSON-schema subset lives in src/protocol, so the SDK's Validator checks records with the same code.
export { type JsonSchema, schemaError, schemaProblem, TEXT_LINE_SCHEMA } from '../protocol/index.js';
