import { initBackend } from '@irpo/core';
import { chatRenderer, promptFormat } from '@irpo/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Completion } from './engine.js';
import { HttpEngine } from './http-engine.js';
import { LocalEngine } from './local-engine.js';
import { createServer, type OpenAIServer } from './server.js';
import { ALPHABET, FakeCharTokenizer, FakeLM } from './testing/fakes.js';

const BOS = 2 + ALPHABET.indexOf('.');

/** The fake character tokenizer with a BOS (".") it adds when asked, and a template that writes BOS itself. */
class ChatTokenizer {
  private readonly chars = new FakeCharTokenizer();
  readonly vocabSize = this.chars.vocabSize;
  readonly bosTokenId = BOS;
  readonly eosTokenIds = this.chars.eosTokenIds;
  readonly padTokenId = this.chars.padTokenId;
  readonly chatTemplate =
    "{{ bos_token }}{% for m in messages %}Q: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}A:{% endif %}";
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return [...((options.addSpecialTokens ?? true) ? [BOS] : []), ...this.chars.encode(text)];
  }
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string {
    return this.chars.decode(ids, options);
  }
}

const tok = new ChatTokenizer();
let model: FakeLM;
let srv: OpenAIServer;
let url: string;

beforeAll(async () => {
  await initBackend('cpu');
  model = new FakeLM(4);
  // as irpo serve builds it: a plain local engine, the model's chat template for /v1/chat/completions
  srv = createServer(new LocalEngine(model, tok), { modelName: 'fake', tokenizer: tok, chatTemplate: chatRenderer(tok)! });
  url = (await srv.listen()).url;
});
afterAll(async () => {
  await srv.close();
  model.dispose();
});

const req = { prompts: ['2+2=?', '9=?'], keys: ['p0', 'p1'], n: 3, temperature: 1, maxNewTokens: 8, seed: 5 };
// texts only: over chat, an OpenAI finish_reason "stop" does not say whether EOS or a stop string ended it
const texts = (r: Completion[][]) => r.map((cs) => cs.map((c) => c.text));

describe('chat prompts in process and through a server', () => {
  it('the in-process chat format renders the prompt as the user turn and encodes it with one BOS', () => {
    const f = promptFormat(tok);
    expect(f.render('2+2=?')).toBe('.Q: 2+2=?\nA:');
    expect(tok.encode(f.render('2+2=?'), { addSpecialTokens: f.addSpecialTokens })[0]).toBe(BOS);
    expect(tok.encode(f.render('2+2=?'), { addSpecialTokens: f.addSpecialTokens })[1]).not.toBe(BOS);
  });

  it('gives the same samples as /v1/chat/completions and as rendered /v1/completions of the same model', async () => {
    const inProcess = await new LocalEngine(model, tok, { promptFormat: promptFormat(tok) }).generate(req);
    const viaChat = await new HttpEngine({ baseUrl: `${url}/v1`, model: 'fake', api: 'chat' }).generate(req);
    const viaCompletions = await new HttpEngine({
      baseUrl: `${url}/v1`,
      model: 'fake',
      api: 'completions',
      promptFormat: promptFormat(tok),
    }).generate(req);
    expect(texts(viaChat)).toEqual(texts(inProcess));
    expect(texts(viaCompletions)).toEqual(texts(inProcess));
    expect(new Set(inProcess.flat().map((c) => c.text)).size).toBeGreaterThan(2); // sampled, not one text
    // a doubled BOS (the rendered text encoded with the tokenizer's own BOS) shifts every position: other samples
    const doubled = await new LocalEngine(model, tok).generate({ ...req, prompts: req.prompts.map((p) => promptFormat(tok).render(p)) });
    expect(texts(doubled)).not.toEqual(texts(inProcess));
  });

  it('HttpEngine refuses a chat format with api chat (the server renders)', () => {
    expect(() => new HttpEngine({ baseUrl: url, model: 'fake', api: 'chat', promptFormat: promptFormat(tok) })).toThrow(TypeError);
  });
});
