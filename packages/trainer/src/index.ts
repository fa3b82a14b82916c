export { buildPairs, type PairOptions, type PairStats } from './pairs.js';
export { encodeSequence, packBatch, sequenceLength, type EncodedSequence, type PackedBatch } from './tokenize.js';
export { lengthBucketedBatches, epochBatches, optimizerSteps } from './batches.js';
export { runTrainingLoop, NonFiniteLossError, type LoopOptions, type MicroStep, type TrainRunOptions } from './train-loop.js';
export { trainPreference, type PreferenceTrainOptions } from './preference-trainer.js';
export { trainSft, type SftExample, type SftOptions } from './sft-trainer.js';
export { computeRefLogps, scoreSequences, type RefLogpsOptions } from './ref-logps.js';
export type { Optimizer } from './optimizer.js';
export type { Tokenizer, TrainableLM } from './types.js';
