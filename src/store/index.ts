export {
  type BatchError,
  type BatchLine,
  type BatchRecord,
  BatchStore,
  inInputOrder,
} from './batches.js';
export { type Db, openDatabase } from './database.js';
export { type FilePurpose, type FileRecord, FileStore } from './files.js';
export { KeyStore } from './keys.js';
export { type ModelRecord, ModelStore } from './models.js';
export { NodeStore } from './nodes.js';
export { type SessionParams, type SessionRecord, SessionStore } from './sessions.js';
export { type ResultRecord, type TaskRecord, type TaskStatus, TaskStore } from './tasks.js';
