// A stand-in for a vLLM OpenAI-compatible server, for tests of how irpo drives real engines:
// plain Node, no dependencies, loopback only. It behaves as vLLM does where irpo can tell:
// - POST /v1/completions and /v1/chat/completions answer after a fixed latency per request,
//   however many are in flight (vLLM batches them), with `n` choices, `stop_reason`, `usage`;
// - GET /v1/models lists the served model with `id` (the served name, default the folder) and
//   `root` (the folder it loaded), as vLLM's ModelCard does;
// - a reload (POST /stand-in/load {"model": folder}) behaves like a restart: /v1/models answers
//   503 for `reloadMs`, then lists the new folder;
// - it counts requests in flight, and keeps the peak per kind (greedy: temperature 0; sampled).
// Completions: with an answers file ({prompt: gold answer}), sample j of a prompt ends with the
// gold answer when (seed + j) is even, else with a wrong one; otherwise "Final answer: 0".
//
// As a process:  node vllm-stand-in.mjs serve --port P --model DIR [--served-model-name NAME]
//                  [--latency-ms 150] [--reload-ms 200] [--answers FILE] [--hang] [--stats-file F]
//                node vllm-stand-in.mjs load <api root> <model dir>     (what engine.reload runs)
// In process:    const s = await startStandIn({ model, latencyMs, answers }); s.url; s.stats(); await s.close();
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @param {{ model: string, servedModelName?: string, port?: number, latencyMs?: number, reloadMs?: number,
 *   answers?: Record<string, string>, hang?: boolean, statsFile?: string }} o
 */
export async function startStandIn(o) {
  const latencyMs = o.latencyMs ?? 150;
  const reloadMs = o.reloadMs ?? 200;
  let root = resolve(o.model);
  let readyAt = 0;
  let inFlight = 0;
  const peak = { greedy: 0, sampled: 0 };
  const requests = { greedy: 0, sampled: 0 };
  /** Requests served per model folder and kind, e.g. {"/m0": {"sampled": 64}}. */
  const servedBy = {};
  const stats = () => ({ inFlight, peak: { ...peak }, requests: { ...requests }, servedBy: structuredClone(servedBy), root });
  const saveStats = () => o.statsFile && writeFileSync(o.statsFile, JSON.stringify(stats()));
  const json = (res, status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const text = (prompt, seed, j) => {
    const gold = o.answers?.[prompt];
    if (gold === undefined) return 'no idea.\nFinal answer: 0';
    return (seed + j) % 2 === 0 ? `so it is ${gold}.\nFinal answer: ${gold}` : `so it is ${gold}1.\nFinal answer: ${gold}1`;
  };

  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method === 'GET' && req.url === '/health') return json(res, 200, {});
    if (req.method === 'GET' && req.url === '/v1/models') {
      if (Date.now() < readyAt) return json(res, 503, { error: { message: 'loading' } });
      return json(res, 200, { object: 'list', data: [{ id: o.servedModelName ?? root, object: 'model', owned_by: 'vllm', root }] });
    }
    if (req.method === 'GET' && req.url === '/stand-in/stats') return json(res, 200, stats());
    if (req.method === 'POST' && req.url === '/stand-in/load') {
      root = resolve(JSON.parse(body).model);
      readyAt = Date.now() + reloadMs;
      return json(res, 200, { root });
    }
    const chat = req.url === '/v1/chat/completions';
    if (req.method !== 'POST' || (!chat && req.url !== '/v1/completions')) return json(res, 404, { error: { message: 'no route' } });
    if (Date.now() < readyAt) return json(res, 503, { error: { message: 'loading' } });
    const r = JSON.parse(body || '{}');
    const kind = r.temperature === 0 ? 'greedy' : 'sampled';
    requests[kind]++;
    (((servedBy[root] ??= {})[kind] ??= 0), servedBy[root][kind]++);
    inFlight++;
    peak[kind] = Math.max(peak[kind], inFlight);
    saveStats();
    try {
      if (o.hang)
        await new Promise((resolve) => req.socket.once('close', resolve)); // never answers
      else await new Promise((resolve) => setTimeout(resolve, latencyMs));
    } finally {
      inFlight--;
    }
    if (o.hang) return;
    const prompt = chat ? r.messages[0].content : r.prompt;
    const n = r.n ?? 1;
    const choices = Array.from({ length: n }, (_, index) => {
      const out = text(prompt, Number(r.seed ?? 0), index);
      return chat
        ? { index, message: { role: 'assistant', content: out }, finish_reason: 'stop', stop_reason: null }
        : { index, text: out, finish_reason: 'stop', stop_reason: null };
    });
    json(res, 200, { object: 'text_completion', model: o.servedModelName ?? root, choices, usage: { completion_tokens: 8 * n } });
    saveStats();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((ok) => server.listen(o.port ?? 0, '127.0.0.1', ok));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    stats,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(ok);
      }),
  };
}

/** Asks a stand-in at `apiRoot` to serve `model` (what a reload command does). */
export async function loadModelOn(apiRoot, model) {
  const res = await fetch(`${apiRoot.replace(/\/v1\/?$/, '')}/stand-in/load`, { method: 'POST', body: JSON.stringify({ model }) });
  if (!res.ok) throw new Error(`${apiRoot}: load answered ${res.status}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cmd, ...args] = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  if (cmd === 'load') {
    await loadModelOn(args[0], args[1]);
    console.log(`${args[0]} now loading ${args[1]}`);
  } else if (cmd === 'serve') {
    const answers = opt('answers') ? JSON.parse(readFileSync(opt('answers'), 'utf8')) : undefined;
    const s = await startStandIn({
      model: opt('model'),
      servedModelName: opt('served-model-name'),
      port: Number(opt('port', '0')),
      latencyMs: Number(opt('latency-ms', '150')),
      reloadMs: Number(opt('reload-ms', '200')),
      answers,
      hang: args.includes('--hang'),
      statsFile: opt('stats-file'),
    });
    console.log(`stand-in listening on ${s.url} serving ${opt('model')}`);
  } else {
    console.error('usage: vllm-stand-in.mjs serve --port P --model DIR [...] | load <api root> <model dir>');
    process.exit(2);
  }
}
