import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readGgufInfo, sha256File, writeTinyModel } from '../models/index.js';
import { KeyStore, ModelStore, openDatabase } from '../store/index.js';

/** `model create-tiny` */
export async function modelCreateTiny(options: { out: string; seed: number; type: string }): Promise<void> {
  if (options.type !== 'q8_0' && options.type !== 'f32')
    throw new Error(`--type must be q8_0 or f32, not '${options.type}'.`);
  await writeTinyModel(options.out, { seed: options.seed, type: options.type });
  const sha256 = await sha256File(options.out);
  process.stdout.write(`${resolve(options.out)}\nsha256: ${sha256}\n`);
}

/** Registers a GGUF file in the store; returns its record. Used by `model add` and `up`. */
export async function registerModel(dataDir: string, file: string, name: string) {
  if (!existsSync(file))
    throw new Error(
      `No model file at ${file}. Create one with \`otensor-cli model create-tiny --out ${file}\`.`,
    );
  const [info, sha256] = await Promise.all([readGgufInfo(file), sha256File(file)]);
  const db = openDatabase(dataDir);
  try {
    const record = { ...info, name, sha256, path: resolve(file), addedAt: Date.now() };
    new ModelStore(db).add(record);
    return record;
  } finally {
    db.close();
  }
}

/** `model add FILE --name NAME --data DIR` */
export async function modelAdd(file: string, options: { name: string; data: string }): Promise<void> {
  const record = await registerModel(options.data, file, options.name);
  process.stdout.write(
    `registered ${record.name}: sha256 ${record.sha256}, ${record.architecture} ${record.quantization}, ${record.parameterCount} parameters, context ${record.contextLength}\n`,
  );
}

/** `model list --data DIR` */
export async function modelList(options: { data: string }): Promise<void> {
  const db = openDatabase(options.data);
  try {
    const models = new ModelStore(db).list();
    if (models.length === 0)
      process.stdout.write('no models registered; add one with `otensor-cli model add FILE --name NAME`\n');
    for (const m of models) {
      process.stdout.write(
        `${m.name}\t${m.sha256}\t${m.architecture}\t${m.quantization}\t${m.contextLength}\t${m.sizeBytes} bytes\n`,
      );
    }
  } finally {
    db.close();
  }
}

/** Creates an API key in the store. Used by `keys create` and `up`. */
export function createKey(dataDir: string, label?: string): string {
  const db = openDatabase(dataDir);
  try {
    return new KeyStore(db).create(label).key;
  } finally {
    db.close();
  }
}

/** `keys create --data DIR`: prints the key alone on stdout, so scripts can capture it. */
export async function keysCreate(options: { data: string; label?: string }): Promise<void> {
  process.stdout.write(`${createKey(options.data, options.label)}\n`);
}
