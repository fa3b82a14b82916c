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
  engineProgress,
  saveDtypeOf,
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
export {
  demoConfig,
  demoCompareOverrides,
  createDemoM0,
  DEMO_BASE_DIR,
  DEMO_COMPARE,
  DEMO_ARITH,
  DEMO_MODEL,
  DEMO_WARM_START,
  type DemoM0Options,
} from './demo.js';
export { trainStageOnPairs, type TrainOnPairsOptions } from './train-stage-on-pairs.js';
export { launchedTrainStage, TrainerLaunchError, type LaunchedTrainOptions } from './launch/launched-train-stage.js';
export { adoptTrainerOutput, findTrainerOutput, type TrainerOutput } from './launch/adopt-trainer-output.js';
export { checkCheckpoint } from './launch/check-checkpoint.js';
export { collectTrainerMetrics, readTrainerMetrics } from './launch/trainer-metrics.js';
export { resolvePairsFormat, trainerPairRow, type TrainerPairRow, type TrainerPairsFormat } from './launch/trainer-pairs.js';
export { readTrainerPairs } from './launch/read-trainer-pairs.js';
export { makeOptimizer } from './optimizer.js';
export { assertEndpointsCanServe, withEngine, staticEndpointPlan, m0Dir, type EngineUse } from './stage-engine.js';
export { runPromptFormat, runPromptFormatOf, httpPromptPlan } from './prompt-format.js';
export {
  chooseRuntime,
  decoderLine,
  inferenceDecoder,
  inferenceModel,
  runtimeLine,
  stageRuntime,
  type RuntimeChoice,
} from './inference-runtime.js';
