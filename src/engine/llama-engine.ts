import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';
import { chatWrapperFor } from './chat-format.js';
import { LlamaLoadedModel } from './llama-model.js';
import type { Engine, EngineOptions, GpuDescription, LoadedModel, LoadModelOptions } from './types.js';

/** Default per-sequence context when the caller gives none: big enough for chat, small enough for RAM. */
const DEFAULT_CONTEXT_CAP = 4096;

class LlamaEngine implements Engine {
  private readonly models = new Set<LoadedModel>();

  constructor(private readonly llama: Llama) {}

  async loadModel(path: string, options: LoadModelOptions): Promise<LoadedModel> {
    const threads = Math.max(1, Math.floor(options.threads));
    const slots = Math.max(1, Math.floor(options.slots ?? 1));
    const useGpu = options.gpu !== false && this.llama.gpu !== false;
    const model = await this.llama.loadModel({ modelPath: path, gpuLayers: useGpu ? 'auto' : 0 });
    try {
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT_CAP);
      const context = await model.createContext({ contextSize, sequences: slots, threads });
      const loaded: LoadedModel = new LlamaLoadedModel(
        path,
        model,
        context,
        chatWrapperFor(model),
        threads,
        () => this.models.delete(loaded),
      );
      this.models.add(loaded);
      return loaded;
    } catch (err) {
      await model.dispose();
      throw err;
    }
  }

  async describeGpus(): Promise<GpuDescription> {
    if (this.llama.gpu === false) return { type: 'cpu', names: [], vramBytes: 0 };
    const [names, vram] = await Promise.all([this.llama.getGpuDeviceNames(), this.llama.getVramState()]);
    return { type: this.llama.gpu, names, vramBytes: vram.total };
  }

  async dispose(): Promise<void> {
    for (const m of [...this.models]) await m.dispose();
    await this.llama.dispose();
  }
}

/**
 * The only entry point to node-llama-cpp. Uses the installed prebuilt binaries and
 * never builds or downloads; gpu 'auto' falls back to CPU when no GPU backend works.
 */
export async function createLlamaEngine(options: EngineOptions = {}): Promise<Engine> {
  const llama = await getLlama({
    build: 'never',
    gpu: options.gpu === false ? false : 'auto',
    progressLogs: false,
    skipDownload: true,
    logLevel: options.logLevel === 'error' ? LlamaLogLevel.error : LlamaLogLevel.warn,
  });
  return new LlamaEngine(llama);
}
