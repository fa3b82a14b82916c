import type { ScoringTask } from './scoring-task.js';

/**
 * The task named `name` from @irpo/data's registry, or null while that registry is not there
 * (so scoring still works, with exact-match voting). Unknown names throw from the registry.
 */
export async function loadScoringTask(name: string): Promise<ScoringTask | null> {
  const data: Record<string, unknown> = await import('@irpo/data');
  const getTask = data['getTask'];
  if (typeof getTask !== 'function') return null;
  return (getTask as (n: string) => ScoringTask)(name);
}
