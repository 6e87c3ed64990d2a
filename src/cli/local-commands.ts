import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  downloadFile,
  downloadProgressBar,
  formatBytes,
  sha256File,
  writeTinyModel,
} from '../models/index.js';
import { ApiError, OmniClient } from '../sdk/index.js';
import { createKey, registeredModels, registerModel } from './local-admin.js';

// Benches and tests set up routers' folders with these; the CLI's store work lives in local-admin.ts.
export { createKey, registerModel };

/** `model create-tiny` */
export async function modelCreateTiny(options: { out: string; seed: number; type: string }): Promise<void> {
  if (options.type !== 'q8_0' && options.type !== 'f32')
    throw new Error(`--type must be q8_0 or f32, not '${options.type}'.`);
  await writeTinyModel(options.out, { seed: options.seed, type: options.type });
  const sha256 = await sha256File(options.out);
  process.stdout.write(`${resolve(options.out)}\nsha256: ${sha256}\n`);
}

/**
 * Downloads a GGUF from any HTTP server into `DIR/models/<sha256>.gguf` (resumable: an interrupted run leaves
 * a `.part` file the next run continues) and registers it with that path, so the router serves it to nodes.
 */
export async function registerModelFromUrl(dataDir: string, url: string, name: string) {
  const folder = join(resolve(dataDir), 'models');
  // Named after the URL until its hash is known, so a second run finds the first run's partial file.
  const temporary = join(
    folder,
    `download-${createHash('sha256').update(url).digest('hex').slice(0, 16)}.gguf`,
  );
  const bar = downloadProgressBar(`downloading ${name}`);
  const result = await downloadFile(url, temporary, {
    onProgress: bar.update,
    onRetry: (reason, offset) =>
      process.stderr.write(`download interrupted (${reason}); resuming at byte ${offset}\n`),
  }).finally(() => bar.done());
  const file = join(folder, `${result.sha256}.gguf`);
  if (existsSync(file)) await rm(temporary, { force: true });
  else await rename(temporary, file);
  try {
    return await registerModel(dataDir, file, name, result.sha256);
  } catch (error) {
    throw new Error(
      `${url} was downloaded to ${file} but is not a GGUF model this router can register (${error instanceof Error ? error.message : String(error)}). Check the URL.`,
    );
  }
}

/** `model add FILE|URL --name NAME --data DIR` */
export async function modelAdd(file: string, options: { name: string; data: string }): Promise<void> {
  const record = /^https?:\/\//i.test(file)
    ? await registerModelFromUrl(options.data, file, options.name)
    : await registerModel(options.data, file, options.name);
  process.stdout.write(
    `registered ${record.name}: sha256 ${record.sha256}, ${record.architecture} ${record.quantization}, ${record.parameterCount} parameters, context ${record.contextLength}\n`,
  );
}

/** `model list --router URL` (with node counts) or `model list --data DIR` (the store; node counts unknown). */
export async function modelList(options: { data?: string; router?: string }): Promise<void> {
  if (options.router) return modelListFromRouter(options.router);
  if (!options.data)
    throw new Error(
      'Name a running router with --router URL (shows how many nodes serve each model), or its data folder with --data DIR.',
    );
  const models = registeredModels(options.data);
  if (models.length === 0)
    process.stdout.write('no models registered; add one with `otensor-cli model add FILE --name NAME`\n');
  for (const m of models) {
    process.stdout.write(
      `${m.name}\t${m.sha256}\t${m.architecture}\t${m.quantization}\t${m.contextLength}\t${m.sizeBytes} bytes\tnodes ?\n`,
    );
  }
}

async function modelListFromRouter(router: string): Promise<void> {
  const { data } = await new OmniClient({ baseUrl: router }).catalog().catch((error: unknown) => {
    if (error instanceof ApiError)
      throw new Error(`${router} answered HTTP ${error.status} (${error.message}). Check --router.`);
    throw new Error(
      `Cannot reach the router at ${router} (${error instanceof Error ? error.message : String(error)}). Check --router, or read its store with --data DIR.`,
    );
  });
  if (data.length === 0)
    process.stdout.write('no models registered; add one with `otensor-cli model add FILE|URL --name NAME`\n');
  for (const m of data) {
    process.stdout.write(
      `${m.name}\t${m.sha256}\t${m.architecture}\t${m.quantization}\t${m.context_length}\t${formatBytes(m.size_bytes)}\t${m.nodes} node${m.nodes === 1 ? '' : 's'}${m.downloadable ? '' : '\t(no file on the router)'}\n`,
    );
  }
}

/** `keys create --data DIR`: prints the key alone on stdout, so scripts can capture it. */
export async function keysCreate(options: { data: string; label?: string }): Promise<void> {
  process.stdout.write(`${createKey(options.data, options.label)}\n`);
}
