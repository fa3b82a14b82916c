/**
 * `@irpo/sampler/testing`: small deterministic stand-ins (a CausalLM with a real KV cache, a
 * character tokenizer, a task) for tests of code built on the sampler.
 */
export { ALPHABET, CharTokenizer, EOS, FakeLM, PAD, fakeProblems, fakeTask } from './fakes.js';
