import { readFile } from 'node:fs/promises';
import { InputError, PreferencePairSchema, readJsonlAll, type PreferencePair } from '@irpo/contracts';
import type { PromptFormat } from '@irpo/model';
import type { Tokenizer } from '@irpo/trainer';
import { eosText } from './trainer-pairs.js';

/**
 * The pairs of a file `irpo train` was given: irpo's pairs.jsonl, or the pairs a launched run
 * wrote for its trainer (training.pairsFormat), turned back into what irpo trains on, so `irpo
 * train` launched by a run trains exactly what the run would in process:
 * - conversational rows: the user message is the prompt, the assistant messages the answers;
 * - standard rows under a plain prompt format: an answer ending with the EOS token's text ended
 *   (the text is removed, encodeSequence appends the id again), any other was cut off.
 * Standard rows under a chat format (the prompt is the rendered template) and token ids cannot
 * be turned back into prompts exactly, and are refused.
 */
export async function readTrainerPairs(file: string, tokenizer: Tokenizer, format: PromptFormat): Promise<PreferencePair[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return [];
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(lines[first]!) as Record<string, unknown>;
  } catch {
    throw new InputError(file, first + 1, undefined, 'not a JSON object');
  }
  if (typeof head.id === 'string' && typeof head.problemId === 'string') return readJsonlAll(file, PreferencePairSchema);
  if ('prompt_ids' in head) {
    throw new InputError(
      file,
      first + 1,
      'prompt_ids',
      'token-id pairs (training.pairsFormat tokens) are for trainers that read ids; irpo train reads conversational or standard pairs',
    );
  }
  const chat = Array.isArray(head.prompt);
  if (!chat && format.kind === 'chat') {
    throw new InputError(
      file,
      first + 1,
      'prompt',
      'standard pairs of a chat-format run hold the rendered template, which irpo train would render again: use training.pairsFormat conversational with irpo train',
    );
  }
  const eos = eosText(tokenizer);
  const pairs: PreferencePair[] = [];
  for (let i = first; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    const at = (field: string, problem: string): never => {
      throw new InputError(file, i + 1, field, problem);
    };
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return at('(line)', 'not a JSON object');
    }
    const n = pairs.length;
    if (chat) {
      const prompt = message(row.prompt, 'user') ?? at('prompt', 'expected [{"role": "user", "content": <text>}]');
      const chosen = message(row.chosen, 'assistant') ?? at('chosen', 'expected [{"role": "assistant", "content": <text>}]');
      const rejected = message(row.rejected, 'assistant') ?? at('rejected', 'expected [{"role": "assistant", "content": <text>}]');
      pairs.push({ v: 1, id: `pair-${n}`, problemId: `pair-${n}`, prompt, chosen, rejected, chosenSource: 'sample' });
    } else {
      for (const f of ['prompt', 'chosen', 'rejected']) if (typeof row[f] !== 'string') at(f, 'expected a string');
      const [chosen, chosenEnded] = stripEos(row.chosen as string, eos);
      const [rejected, rejectedEnded] = stripEos(row.rejected as string, eos);
      pairs.push({
        v: 1,
        id: `pair-${n}`,
        problemId: `pair-${n}`,
        prompt: row.prompt as string,
        chosen,
        rejected,
        chosenSource: 'sample',
        chosenEnded,
        rejectedEnded,
      });
    }
  }
  return pairs;
}

function message(v: unknown, role: 'user' | 'assistant'): string | undefined {
  if (!Array.isArray(v) || v.length !== 1) return undefined;
  const m = v[0] as { role?: unknown; content?: unknown };
  return m?.role === role && typeof m.content === 'string' ? m.content : undefined;
}

function stripEos(text: string, eos: string): [string, boolean] {
  return eos !== '' && text.endsWith(eos) ? [text.slice(0, -eos.length), true] : [text, false];
}
