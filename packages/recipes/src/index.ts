export { RunDir, firstDifference } from './run-dir.js';
export { createProgress, type Progress } from './progress.js';
export { evaluateModel, type EvaluateOptions } from './evaluate-model.js';
export { ModelSlot } from './model-slot.js';
export { runIterativeRpo, startRun, type RecipeOptions, type RecipeResult } from './iterative-rpo.js';
export {
  sampleStage,
  pairStage,
  referenceStage,
  trainStage,
  evaluateStage,
  sftExamplesStage,
  evalOptions,
  runStageContext,
  stageSeed,
  type StageContext,
  type StageDir,
  type StageLabel,
  type SeededStage,
  type TrainObjective,
} from './stages.js';
export { runDpoBaseline, runSftGoldBaseline, runStarBaseline, runSftChosenBaseline, seedFrom, mainM0, type Baseline } from './baselines.js';
export { runCompare, parseMethods, methodConfig, METHODS, DEFAULT_METHODS, type Method, type CompareResult } from './compare.js';
export { demoConfig, createDemoM0, DEMO_BASE_DIR, DEMO_ARITH, DEMO_MODEL, DEMO_WARM_START, type DemoM0Options } from './demo.js';
export { trainStageOnPairs } from './train-stage-on-pairs.js';
export { makeOptimizer } from './optimizer.js';
export { withEngine, staticEndpointPlan, m0Dir, type EngineUse } from './stage-engine.js';
export { runPromptFormat, runPromptFormatOf, httpPromptPlan } from './prompt-format.js';
