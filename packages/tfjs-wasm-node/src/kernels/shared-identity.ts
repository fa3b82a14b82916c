import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, KernelFn } from './wasm-util.js';

interface RefCounting {
  incRef(dataId: unknown): void;
}

/**
 * Identity (and Cast to the same dtype) on wasm that shares the input's buffer, as the cpu
 * backend does and as wasm's own Reshape does, instead of copying it. The gradient tape clones
 * (Identity) every tensor a gradient needs, so with the stock copying kernel a training forward
 * held each saved activation twice: tiny's train step kept 687 MB for the backward pass, 340 MB
 * of it such copies. tfjs tensors are immutable and the buffer is freed when its last tensor is
 * disposed (the backend counts references), so sharing is safe.
 */
export function sharedIdentityConfigs(): tf.KernelConfig[] {
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  const stockCast = tf.getKernel('Cast', 'wasm');
  if (!stockIdentity || !stockCast) throw new Error('tfjs-wasm-node: wasm has no Identity/Cast kernel to wrap');
  const share = (args: KernelArgs, stock: KernelFn): tf.TensorInfo => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const dtype = (args.attrs?.['dtype'] as tf.DataType | undefined) ?? x.dtype;
    if (x.dtype === 'string' || dtype !== x.dtype) return stock(args);
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const wrap = (stock: tf.KernelConfig): tf.KernelConfig => ({
    ...stock,
    kernelFunc: ((args: KernelArgs) => share(args, stock.kernelFunc as unknown as KernelFn)) as unknown as tf.KernelFunc,
  });
  return [wrap(stockIdentity), wrap(stockCast)];
}
