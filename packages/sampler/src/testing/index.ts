/**
 * `@irpo/sampler/testing`: small deterministic stand-ins for tests of code built on the sampler:
 * a CausalLM with a real KV cache (FakeLM), a character tokenizer with its own special ids
 * (FakeCharTokenizer, not @irpo/model's CharTokenizer) and a task.
 */
export { ALPHABET, EOS, FakeCharTokenizer, FakeLM, PAD, fakeProblems, fakeTask } from './fakes.js';
