import type { RunConfig } from '@irpo/contracts';
import { getTask, type Task } from '@irpo/data';

/** The task a run config names, with its data path, template and (arith) difficulty knobs. */
export function taskOf(config: RunConfig): Task {
  return getTask(config.task.name, { path: config.task.path, templateFile: config.task.template, ...(config.task.arith ?? {}) });
}
