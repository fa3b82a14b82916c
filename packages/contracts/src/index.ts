/**
 * @irpo/contracts: the base every other package builds on, with no TensorFlow.js: record schemas
 * and run config (zod), JSONL/JSON I/O with file:line:field errors, atomic writes, errors,
 * logging and seeded randomness.
 */
export { InputError, UsageError, fieldPath, issueToInputError } from './errors.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic.js';
export {
  JsonlAppender,
  readJsonFile,
  readJsonl,
  readJsonlAll,
  readJsonlLines,
  writeJsonlAtomic,
  type JsonlRecord,
  type ReadJsonlOptions,
} from './jsonl.js';
export {
  AccuracySchema,
  EvalReportSchema,
  FinishReasonSchema,
  PreferencePairSchema,
  ProblemSchema,
  RefLogpsSchema,
  SampleSchema,
  TrainLogRecordSchema,
  TrainStepMetricsSchema,
  type Accuracy,
  type EvalReport,
  type FinishReason,
  type PreferencePair,
  type Problem,
  type RefLogps,
  type Sample,
  type TrainLogRecord,
  type TrainStepMetrics,
} from './records.js';
export { SftExampleSchema, SftStepMetricsSchema, type SftExampleRecord, type SftStepMetrics } from './sft-records.js';
export {
  LORA_TARGET_MODULES,
  LoraConfigSchema,
  ModelSpecSchema,
  type LoraConfig,
  type LoraConfigInput,
  type LoraTargetModule,
  type ModelSpec,
} from './model-spec.js';
export {
  CompareConfigSchema,
  MethodSettingsSchema,
  type CompareConfig,
  type MethodSettings,
  EngineConfigSchema,
  PromptConfigSchema,
  RunConfigSchema,
  iterationSettings,
  type EngineConfig,
  type EvalConfig,
  type IterationConfig,
  type IterationOverride,
  type PromptConfig,
  type RunConfig,
  type RunConfigInput,
  type TaskConfig,
  type TrainingConfig,
} from './run-config.js';
export {
  DevCheckpointSchema,
  DevSelectionSchema,
  RewardConfigSchema,
  StopConfigSchema,
  StopRecordSchema,
  type DevCheckpoint,
  type DevSelection,
  type RewardConfig,
  type StopConfig,
  type StopRecord,
} from './protocol-config.js';
export { ineffectiveSettings, refuseIneffectiveSettings, type IneffectiveSetting } from './settings-without-effect.js';
export { ResumeCheckpointSchema, RunStateSchema, STAGES, type ResumeCheckpoint, type RunState, type Stage } from './run-state.js';
export { formatDuration } from './duration.js';
export { LOG_LEVELS, createLogger, getLogLevel, setLogLevel, setLogSink, type LogLevel, type Logger } from './log.js';
export { fnv1a, mulberry32, shuffleInPlace } from './random.js';
export {
  fillTemplate,
  groupAlive,
  ProcessStartError,
  runProcess,
  shellQuote,
  startProcessGroup,
  stopGroup,
  tailOf,
  type ProcessExit,
  type ProcessGroup,
  type RunProcessOptions,
  type RunProcessResult,
  type StartProcessGroupOptions,
} from './process-group.js';
