import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@irpo/contracts';
import { loadModel, saveModel, type LoadedModel, type SafetensorsDtype } from '@irpo/model';
import { decoderFor, OnnxDecoderPool, OnnxLlama, type OnnxDecoderPoolOptions } from '@irpo/onnx';

/** Sampling defaults a model folder may carry (Hugging Face's name); servers such as vLLM read it. */
const GENERATION_CONFIG = 'generation_config.json';

/**
 * The one model a recipe holds in memory, with the folder it came from. Training updates it in
 * place (M(t) starts from M(t-1)); `save` writes it atomically and makes that folder its source.
 */
export class ModelSlot {
  current: (LoadedModel & { dir: string }) | undefined;
  /** The held model on ONNX Runtime: a snapshot of its weights, for the folder it was taken from. */
  private onnxSnapshot: { dir: string; model: Promise<OnnxLlama>; decoder?: Promise<OnnxLlama | OnnxDecoderPool> } | undefined;
  /** Why decoding runs on one thread (decoder threads failed to start), said once. */
  private poolFailure: string | undefined;

  /** `decoders`: how onnxDecoder starts its threads (default: decoderLanes of the model, this process's Node flags). */
  constructor(private readonly decoders: OnnxDecoderPoolOptions = {}) {}

  /** Loads `dir` unless it is what the slot already holds. */
  async ensure(dir: string): Promise<LoadedModel & { dir: string }> {
    if (this.current?.dir === dir) return this.current;
    if (!existsSync(join(dir, 'config.json'))) {
      throw new InputError(join(dir, 'config.json'), undefined, undefined, 'no model here (config.json missing)');
    }
    this.releaseOnnx();
    this.current?.model.dispose();
    this.current = { ...(await loadModel(dir)), dir };
    return this.current;
  }

  /**
   * The held model on ONNX Runtime (built from its weights on first use, then kept while the slot
   * holds the same folder's weights). Training changes the weights in place: it calls releaseOnnx.
   */
  onnx(): Promise<OnnxLlama> {
    const held = this.current;
    if (!held) throw new Error('no model loaded');
    if (this.onnxSnapshot?.dir !== held.dir) {
      this.releaseOnnx();
      this.onnxSnapshot = { dir: held.dir, model: OnnxLlama.fromModel(held.model) };
    }
    return this.onnxSnapshot.model;
  }

  /**
   * What the local engine decodes with on ONNX Runtime: the snapshot's decode graph in one worker
   * thread per core (OnnxDecoderPool, when decoderLanes gives more than one), else the snapshot
   * itself on this thread. Where the threads cannot start, the snapshot, and `onFallback` hears why
   * (once per slot).
   */
  onnxDecoder(onFallback?: (reason: string) => void): Promise<OnnxLlama | OnnxDecoderPool> {
    const model = this.onnx();
    const snapshot = this.onnxSnapshot!;
    snapshot.decoder ??= model.then((m) =>
      this.poolFailure !== undefined
        ? m
        : decoderFor(m, this.decoders, (reason) => {
            this.poolFailure = reason;
            onFallback?.(reason);
          }),
    );
    return snapshot.decoder;
  }

  /** Drops the ONNX Runtime snapshot (its sessions, decoder threads and weights). */
  releaseOnnx(): void {
    const snapshot = this.onnxSnapshot;
    this.onnxSnapshot = undefined;
    snapshot?.decoder?.then((d) => (d instanceof OnnxDecoderPool ? d.dispose() : undefined)).catch(() => undefined);
    snapshot?.model.then((m) => m.dispose()).catch(() => undefined);
  }

  /**
   * Writes the held model to `dir` (temporary folder, then rename) in `dtype` (default F32), with
   * the source folder's generation_config.json, and makes `dir` the slot's source. A lossy dtype
   * (BF16, F16) is read back, so what later stages use is what was saved: a resumed run and an
   * uninterrupted one go on from the same weights.
   */
  async save(dir: string, dtype: SafetensorsDtype = 'F32'): Promise<void> {
    const held = this.current;
    if (!held) throw new Error('no model loaded');
    const tmp = `${dir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await saveModel(tmp, held.model, held.tokenizer, { dtype });
    const generation = join(held.dir, GENERATION_CONFIG);
    if (existsSync(generation)) await copyFile(generation, join(tmp, GENERATION_CONFIG));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    this.releaseOnnx();
    if (dtype === 'F32') held.dir = dir;
    else this.dispose(); // the next ensure(dir) loads the rounded weights
  }

  /** sha256 over the held weights (names and float32 values, in name order). */
  async weightsHash(): Promise<string> {
    const held = this.current;
    if (!held) throw new Error('no model loaded');
    return hashWeights(held.model.variables);
  }

  dispose(): void {
    this.releaseOnnx();
    this.current?.model.dispose();
    this.current = undefined;
  }
}

/** sha256 over weights by name (sorted) and their float32 bytes: equal hashes, equal models. */
export async function hashWeights(variables: Map<string, { data(): Promise<unknown> }>): Promise<string> {
  const h = createHash('sha256');
  for (const name of [...variables.keys()].sort()) {
    const data = (await variables.get(name)!.data()) as Float32Array;
    h.update(name);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}
