/**
 * A decoder worker thread of OnnxDecoderPool: one ONNX Runtime session of the decode graph and the
 * KV caches of the batches it decodes, by id. Requests are served one at a time in arrival order,
 * so a cache's select always lands between the decode steps around it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DecodeRunner, sessionSettings } from './decode-runner.js';
import type { DecoderReply, DecoderRequest, DecoderWorkerData } from './decoder-protocol.js';
import type { OnnxKvCache } from './onnx-kv-cache.js';
import { loadOrt } from './runtime.js';

const port = parentPort!;
const init = workerData as DecoderWorkerData;

async function start(): Promise<void> {
  const status = await loadOrt();
  if (!status.ok) throw new Error(status.reason);
  const ort = status.ort;
  // A SharedArrayBuffer view is copied: the binding takes plain ArrayBuffers.
  const graph = init.graph.buffer instanceof ArrayBuffer ? init.graph : init.graph.slice();
  const session = await ort.InferenceSession.create(graph, sessionSettings(init.threads, init.executionProviders));
  // The session holds the weights now: drop this thread's hold on the shared bytes.
  (init as Partial<DecoderWorkerData>).graph = undefined;
  const runner = new DecodeRunner(ort, () => Promise.resolve(session), init.dims);
  const caches = new Map<number, OnnxKvCache>();
  const cacheOf = (id: number): OnnxKvCache => {
    const c = caches.get(id);
    if (!c) throw new Error(`no cache ${id} in this decoder (disposed, or never prefilled)`);
    return c;
  };

  const handle = async (m: DecoderRequest): Promise<Float32Array | undefined> => {
    switch (m.op) {
      case 'prefill': {
        const { logits, cache } = await runner.prefill(m.ids, m.mask, m.batch, m.length, m.maxNewTokens);
        caches.set(m.cache, cache);
        return logits;
      }
      case 'decode':
        return runner.decode(m.tokens, cacheOf(m.cache));
      case 'select':
        caches.set(m.cache, cacheOf(m.cache).select(m.rows));
        return undefined;
      case 'dispose':
        caches.get(m.cache)?.dispose();
        caches.delete(m.cache);
        return undefined;
    }
  };

  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: DecoderRequest) => {
    queue = queue.then(async () => {
      let reply: DecoderReply;
      const transfer: ArrayBuffer[] = [];
      try {
        const logits = await handle(m);
        if (logits) {
          // Hand the buffer over instead of copying it (a view into a larger buffer is copied first).
          const own = logits.byteOffset === 0 && logits.byteLength === logits.buffer.byteLength ? logits : logits.slice();
          transfer.push(own.buffer as ArrayBuffer);
          reply = { id: m.id, logits: own };
        } else reply = { id: m.id };
      } catch (e) {
        reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
      }
      try {
        port.postMessage(reply, transfer);
      } catch {
        port.postMessage(reply); // a buffer ONNX Runtime owns cannot be handed over: copied instead
      }
    });
  });
  port.postMessage({ id: 0, ready: true } satisfies DecoderReply);
}

start().catch((e: unknown) => {
  port.postMessage({ id: 0, error: e instanceof Error ? e.message : String(e) } satisfies DecoderReply);
});
