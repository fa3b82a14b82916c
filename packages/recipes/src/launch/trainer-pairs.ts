import type { PreferencePair } from '@irpo/contracts';
import type { PromptFormat } from '@irpo/model';
import { encodeSequence, type Tokenizer } from '@irpo/trainer';

/** How the pairs file handed to a launched trainer ({pairs}) is written: training.pairsFormat. */
export type TrainerPairsFormat = 'conversational' | 'standard' | 'tokens';

/** A user turn and an assistant turn, as TRL and OpenRLHF read conversational records. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export type TrainerPairRow =
  | { prompt: ChatTurn[]; chosen: ChatTurn[]; rejected: ChatTurn[] }
  | { prompt: string; chosen: string; rejected: string }
  | { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] };

/** training.pairsFormat, or its default: conversational when the prompt format is chat, else standard. */
export function resolvePairsFormat(setting: TrainerPairsFormat | undefined, format: PromptFormat): TrainerPairsFormat {
  return setting ?? (format.kind === 'chat' ? 'conversational' : 'standard');
}

/**
 * One pair as a trainer reads it.
 * - conversational: the task's prompt as the single user message, each answer as the assistant's
 *   message; the trainer applies the model's chat template (as irpo's chat format does).
 * - standard: the prompt as irpo renders it (the chat template's text under a chat format, the
 *   prompt itself under plain), and each answer with the EOS token's text appended when irpo
 *   appends EOS (it ended; a cut-off loser gets none). A trainer that adds BOS to the prompt
 *   (TRL does for standard rows) reads what irpo reads under plain.
 * - tokens: the ids irpo's reference and training read (encodeSequence): no template and no
 *   BOS/EOS rule left to the trainer.
 */
export function trainerPairRow(
  pair: PreferencePair,
  rowFormat: TrainerPairsFormat,
  tokenizer: Tokenizer,
  promptFormat: PromptFormat,
): TrainerPairRow {
  const chosenEnded = pair.chosenEnded ?? true;
  const rejectedEnded = pair.rejectedEnded ?? true;
  switch (rowFormat) {
    case 'conversational':
      return {
        prompt: [{ role: 'user', content: pair.prompt }],
        chosen: [{ role: 'assistant', content: pair.chosen }],
        rejected: [{ role: 'assistant', content: pair.rejected }],
      };
    case 'standard': {
      const eos = eosText(tokenizer);
      return {
        prompt: promptFormat.render(pair.prompt),
        chosen: pair.chosen + (chosenEnded ? eos : ''),
        rejected: pair.rejected + (rejectedEnded ? eos : ''),
      };
    }
    case 'tokens': {
      const w = encodeSequence(tokenizer, pair.prompt, pair.chosen, chosenEnded, promptFormat);
      const l = encodeSequence(tokenizer, pair.prompt, pair.rejected, rejectedEnded, promptFormat);
      return { prompt_ids: w.promptIds, chosen_ids: w.responseIds, rejected_ids: l.responseIds };
    }
  }
}

/** The text of the tokenizer's first EOS token (what encodeSequence appends as an id), '' without one. */
export function eosText(tokenizer: Pick<Tokenizer, 'decode' | 'eosTokenIds'>): string {
  const eos = tokenizer.eosTokenIds[0];
  return eos === undefined ? '' : tokenizer.decode([eos], { skipSpecialTokens: false });
}
