/**
 * @irpo/core: the tensor runtime. Every other package takes TensorFlow.js from here (`tf`), so
 * one version and one set of registered kernels and gradients serve the whole process.
 */
export * as tf from '@tensorflow/tfjs-core';
export { initBackend, type BackendChoice, type BackendName } from './runtime.js';
