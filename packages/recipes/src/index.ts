export { RunDir, firstDifference } from './run-dir.js';
export { createProgress, type Progress } from './progress.js';
export { evaluateModel, type EvaluateOptions } from './evaluate-model.js';
export { ModelSlot } from './model-slot.js';
export { runIterativeRpo, type RecipeOptions, type RecipeResult } from './iterative-rpo.js';
export {
  sampleStage,
  pairStage,
  referenceStage,
  trainStage,
  evaluateStage,
  evalOptions,
  runStageContext,
  stageSeed,
  type StageContext,
  type StageDir,
  type StageLabel,
  type SeededStage,
  type TrainObjective,
} from './stages.js';
export { runDpoBaseline, runSftBaseline, runCompare, seedFrom, type Baseline, type CompareResult } from './baselines.js';
export { demoConfig, createDemoM0, DEMO_BASE_DIR, DEMO_ARITH, DEMO_MODEL, DEMO_WARM_START, type DemoM0Options } from './demo.js';
export { trainStageOnPairs } from './train-stage-on-pairs.js';
export { makeOptimizer } from './optimizer.js';
export { withEngine, staticEndpointPlan, m0Dir, type EngineUse } from './stage-engine.js';
export { runPromptFormat, runPromptFormatOf, httpPromptPlan } from './prompt-format.js';
