import { InputError, type RunConfig } from '@irpo/contracts';
import { loadTokenizer, promptFormat, type FormattingTokenizer, type PromptFormat } from '@irpo/model';

/**
 * The run's prompt format for a model's tokenizer: config.prompt.format, where auto is chat when
 * the tokenizer has a chat template. Sampling, reference log-probs, training and eval all take it
 * from here, so every stage reads a prompt as the same tokens.
 */
export function runPromptFormat(config: Pick<RunConfig, 'prompt'>, tokenizer: FormattingTokenizer): PromptFormat {
  return promptFormat(tokenizer, config.prompt.format);
}

/** runPromptFormat for a model folder, reading only its tokenizer files. */
export async function runPromptFormatOf(config: Pick<RunConfig, 'prompt'>, modelDir: string): Promise<PromptFormat> {
  return runPromptFormat(config, await loadTokenizer(modelDir));
}

/**
 * How an HTTP engine sends prompts under a prompt format. engine.api, when set, decides; when
 * absent, a chat format uses /v1/chat/completions (the server renders its template) and a plain
 * one /v1/completions. With api completions a chat format is rendered here and the text sent.
 * api chat with a plain format is refused: the server would apply a template that training and
 * the reference never saw.
 */
export function httpPromptPlan(
  config: Pick<RunConfig, 'engine'>,
  format: PromptFormat,
): { api: 'completions' | 'chat'; promptFormat?: PromptFormat } {
  const api = config.engine.api ?? (format.kind === 'chat' ? 'chat' : 'completions');
  if (api === 'chat' && format.kind !== 'chat') {
    throw new InputError(
      'run config',
      undefined,
      'engine.api',
      `engine.api chat has the server apply a chat template, but prompt.format resolves to plain (${format.reason}), ` +
        'so training would read other prompts than sampling: use engine.api completions, or prompt.format chat with a model that has a chat template',
    );
  }
  return api === 'chat' ? { api } : { api, promptFormat: format };
}
