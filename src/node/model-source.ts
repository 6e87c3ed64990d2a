import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  certificateProblem,
  DownloadError,
  downloadFile,
  downloadProgressBar,
  HashMismatchError,
} from '../models/index.js';
import type { ModelCatalogEntry } from '../protocol/index.js';

/** A model file the node will load; `sha256` is what the router registered, when it came from the router. */
export type ModelSource = { arg: string; file: string; sha256?: string; downloaded: boolean };

/** What the node needs of a `GET /api/models` entry. */
type CatalogEntry = Pick<ModelCatalogEntry, 'name' | 'sha256' | 'size_bytes' | 'downloadable'>;

export type ResolveOptions = {
  routerUrl: string;
  dataDir: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Whole downloads tried when the file does not hash to the registered sha256; default 3. */
  hashAttempts?: number;
  /** Draw a progress bar on stderr; default true. */
  progress?: boolean;
  /** The fetch that trusts the router's CA or pin (see router-tls.ts); default the global one. */
  fetch?: typeof fetch;
};

const SHA256 = /^[0-9a-fA-F]{64}$/;

/** Where a node keeps a model it fetched from its router. */
export const storedModelPath = (dataDir: string, sha256: string) =>
  join(resolve(dataDir), 'models', `${sha256.toLowerCase()}.gguf`);

/**
 * Turns each `--model` argument into a file: an existing file is used as it is; anything else is a model
 * name or sha256 registered on the router, taken from the node's data folder if it fetched it before, or
 * downloaded from the router (resumable, hash-checked) into `DATA/models/<sha256>.gguf`.
 */
export async function resolveModelSources(args: string[], options: ResolveOptions): Promise<ModelSource[]> {
  let catalog: CatalogEntry[] | undefined;
  const sources: ModelSource[] = [];
  for (const arg of args) {
    const path = resolve(arg);
    if (existsSync(path) && statSync(path).isFile()) {
      sources.push({ arg, file: path, downloaded: false });
      continue;
    }
    // A sha256 the node fetched before needs no router to look it up.
    if (SHA256.test(arg) && existsSync(storedModelPath(options.dataDir, arg))) {
      options.log(`using stored model ${arg.toLowerCase().slice(0, 12)} (no download)`);
      sources.push({
        arg,
        file: storedModelPath(options.dataDir, arg),
        sha256: arg.toLowerCase(),
        downloaded: false,
      });
      continue;
    }
    catalog ??= await fetchCatalog(options.routerUrl, arg, options.signal, options.fetch);
    const entry = pick(catalog, arg, options.routerUrl);
    const file = storedModelPath(options.dataDir, entry.sha256);
    if (existsSync(file)) {
      options.log(
        `using stored model ${entry.name} (${entry.sha256.slice(0, 12)}) from ${file} (no download)`,
      );
      sources.push({ arg, file, sha256: entry.sha256, downloaded: false });
      continue;
    }
    await fetchModel(entry, file, options);
    sources.push({ arg, file, sha256: entry.sha256, downloaded: true });
  }
  return sources;
}

async function fetchCatalog(
  routerUrl: string,
  arg: string,
  signal?: AbortSignal,
  fetcher: typeof fetch = fetch,
): Promise<CatalogEntry[]> {
  const url = `${routerUrl.replace(/\/+$/, '')}/api/models`;
  let response: Response;
  try {
    response = await fetcher(url, signal ? { signal } : {});
  } catch (error) {
    signal?.throwIfAborted();
    const certificate = certificateProblem(error);
    if (certificate !== undefined)
      throw new Error(
        `'${arg}' is not a file, and the router at ${routerUrl} could not be asked which model that is: its TLS certificate failed verification (${certificate}). Pass --router-ca FILE (the CA that signed it) or --router-fingerprint SHA256 (its pin), or pass a GGUF file to --model.`,
      );
    throw new Error(
      `'${arg}' is not a file, and the router at ${routerUrl} could not be asked which model that is (${reason(error)}). Start the router or check --router, or pass a GGUF file to --model.`,
    );
  }
  if (!response.ok)
    throw new Error(
      `'${arg}' is not a file, and the router at ${routerUrl} answered HTTP ${response.status} to GET /api/models. Check --router (is it an OmniTensor router of this version?), or pass a GGUF file to --model.`,
    );
  const body = (await response.json()) as { data?: CatalogEntry[] };
  return body.data ?? [];
}

/** The registered model a name or sha256 means; among several files of one name, the newest the router holds. */
function pick(catalog: CatalogEntry[], arg: string, routerUrl: string): CatalogEntry {
  const matches = catalog.filter((m) => m.name === arg || m.sha256 === arg.toLowerCase());
  const entry = matches.find((m) => m.downloadable) ?? matches[0];
  if (!entry)
    throw new Error(
      `Model '${arg}' is not a file and is not registered on the router at ${routerUrl}; register it there with \`otensor-cli model add FILE|URL --name ${arg} --data ROUTER_DATA\`, or pass a GGUF file to --model.`,
    );
  if (!entry.downloadable)
    throw new Error(
      `The router at ${routerUrl} knows model '${entry.name}' (${entry.sha256}) but holds no file for it to send; register the file on the router with \`otensor-cli model add FILE|URL --name ${entry.name} --data ROUTER_DATA\`, or pass a GGUF file to --model.`,
    );
  return entry;
}

/** Downloads a model from the router, retrying whole downloads whose bytes do not hash to the sha256. */
async function fetchModel(entry: CatalogEntry, file: string, options: ResolveOptions): Promise<void> {
  const url = `${options.routerUrl.replace(/\/+$/, '')}/api/models/${entry.sha256}/file`;
  const attempts = options.hashAttempts ?? 3;
  options.log(
    `fetching model ${entry.name} (${entry.sha256.slice(0, 12)}, ${entry.size_bytes} bytes) from ${url}`,
  );
  for (let attempt = 1; ; attempt++) {
    const bar = options.progress === false ? undefined : downloadProgressBar(`downloading ${entry.name}`);
    try {
      const result = await downloadFile(url, file, {
        expectedSha256: entry.sha256,
        ...(bar ? { onProgress: bar.update } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        onRetry: (reason, offset) =>
          options.log(`download interrupted (${reason}); resuming at byte ${offset}`),
      });
      bar?.done();
      options.log(
        `downloaded model ${entry.name} (${result.size} bytes, sha256 verified) to ${file}${result.transferred < result.size ? ` (resumed, ${result.transferred} bytes fetched)` : ''}`,
      );
      return;
    } catch (error) {
      bar?.done();
      if (!(error instanceof HashMismatchError)) {
        if (error instanceof DownloadError)
          throw new Error(`Could not fetch model '${entry.name}' from the router: ${error.message}`);
        throw error;
      }
      if (attempt >= attempts)
        throw new Error(
          `Model '${entry.name}' from ${url} did not match its sha256 in ${attempts} downloads (got ${error.actual}, registered ${entry.sha256}); the router's file is not the one registered. Register it again on the router with \`otensor-cli model add FILE --name ${entry.name}\`, or pass a GGUF file to --model.`,
        );
      options.log(
        `download ${attempt} of ${attempts} of ${entry.name} hashed to ${error.actual.slice(0, 12)}, not ${entry.sha256.slice(0, 12)}; deleted it, downloading again`,
      );
    }
  }
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
