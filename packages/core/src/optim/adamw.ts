import * as tf from '@tensorflow/tfjs-core';
import { onHostBackend } from './host-backend.js';
import { entriesOf, type NamedTensors } from './named-tensors.js';

export interface AdamWOptions {
  /** Learning rate when step() is given none (a schedule usually supplies it per step). */
  lr?: number;
  /** First-moment decay; 0.9 as in Loshchilov & Hutter and torch. */
  beta1?: number;
  /** Second-moment decay; 0.999 is torch's default, LLM fine-tuning often uses 0.95. */
  beta2?: number;
  /** Added to √v̂; torch's 1e-8. */
  eps?: number;
  /** Decoupled weight decay (p ← p − lr·wd·p); torch's 0.01. */
  weightDecay?: number;
  /** Names exempt from weight decay; default: norms and biases (see defaultNoDecay). */
  noDecay?: (name: string) => boolean;
  /**
   * Where the moments live and the update runs. 'host': Float32Arrays in JavaScript and one
   * fused pass per parameter (read p and g, write p once), outside the tensor heap: on wasm
   * the moments would otherwise take two model-sized blocks of its 4 GiB, and the op-by-op
   * update ten passes over memory. 'tensor': tfjs variables and ops (what a GPU wants).
   * Default: 'host' on the wasm and cpu backends, 'tensor' elsewhere (decided at first use).
   */
  moments?: 'host' | 'tensor';
}

/** Norm scales and biases (Hugging Face names: `...input_layernorm.weight`, `model.norm.weight`, `...q_proj.bias`). */
export function defaultNoDecay(name: string): boolean {
  return /norm/i.test(name) || /(^|\.)bias$/.test(name);
}

/** A checkpointable optimiser state: step count and moments by `<param>.exp_avg` / `<param>.exp_avg_sq`. */
export interface AdamWState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

/**
 * AdamW (Loshchilov & Hutter 2019), step for step as torch.optim.AdamW:
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
 * Moments live in non-trainable variables updated in place, so a step allocates nothing that
 * outlives it.
 */
export class AdamW {
  readonly options: Required<Omit<AdamWOptions, 'moments'>>;
  private t = 0;
  private mode: 'host' | 'tensor' | null;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly hostM = new Map<string, Float32Array>();
  private readonly hostV = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, number[]>();

  constructor(options: AdamWOptions = {}) {
    this.options = {
      lr: options.lr ?? 1e-5,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.01,
      noDecay: options.noDecay ?? defaultNoDecay,
    };
    this.mode = options.moments ?? null;
  }

  /** Where the moments live: fixed by the option or, failing that, at first use by the backend. */
  get moments(): 'host' | 'tensor' {
    this.mode ??= onHostBackend() ? 'host' : 'tensor';
    return this.mode;
  }

  /** Optimiser steps taken so far. */
  get step(): number {
    return this.t;
  }

  /**
   * One update of every parameter that has a gradient (same names). Gradients are not disposed.
   * `lr` overrides the configured rate for this step (from a schedule).
   */
  applyGradients(params: NamedTensors<tf.Variable>, grads: NamedTensors, lr = this.options.lr): void {
    const { beta1, beta2, eps, weightDecay, noDecay } = this.options;
    const g = new Map(entriesOf(grads));
    const host = this.moments === 'host';
    this.t += 1;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (const [name, p] of entriesOf(params)) {
      const grad = g.get(name);
      if (!grad) continue;
      if (grad.size !== p.size) throw new Error(`AdamW: gradient for ${name} has shape [${grad.shape}], parameter [${p.shape}]`);
      if (host) {
        this.hostStep(name, p, grad, lr, noDecay(name) ? 0 : weightDecay, bc1, bc2);
        continue;
      }
      const m = this.moment(this.m, name, p);
      const v = this.moment(this.v, name, p);
      const decay = noDecay(name) ? 0 : weightDecay;
      tf.tidy(() => {
        const gr = tf.reshape(tf.cast(grad, 'float32'), p.shape);
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(gr, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gr), 1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), eps);
        const decayed = decay === 0 ? p : tf.mul(p, 1 - lr * decay);
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), lr / bc1)));
      });
    }
  }

  /** The fused update of one parameter with host moments (same arithmetic as the ops, as torch's). */
  private hostStep(name: string, p: tf.Variable, grad: tf.Tensor, lr: number, decay: number, bc1: number, bc2: number): void {
    const { beta1, beta2, eps } = this.options;
    const n = p.size;
    const m = this.hostMoment(this.hostM, name, p);
    const v = this.hostMoment(this.hostV, name, p);
    const gv = grad.dataSync();
    const pv = p.dataSync();
    const out = new Float32Array(n);
    const keep = 1 - lr * decay;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (let i = 0; i < n; i++) {
      const gi = gv[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * gi;
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      // Float32 storage rounds each quantity where torch's in-place float32 ops do.
      const decayed = Math.fround(pv[i]! * keep);
      out[i] = decayed - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / sqrtBc2 + eps);
    }
    tf.tidy(() => p.assign(tf.tensor(out, p.shape, 'float32')));
  }

  private hostMoment(store: Map<string, Float32Array>, name: string, p: tf.Tensor): Float32Array {
    let x = store.get(name);
    if (!x) {
      x = new Float32Array(p.size);
      store.set(name, x);
      this.shapes.set(name, p.shape);
    } else if (x.length !== p.size) {
      throw new Error(`AdamW: state for ${name} has ${x.length} values, parameter [${p.shape}]`);
    }
    return x;
  }

  /** The state to checkpoint (clones; the caller disposes them). */
  getState(): AdamWState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, m] of this.hostM) tensors[`${name}.exp_avg`] = tf.tensor(m.slice(), this.shapes.get(name), 'float32');
    for (const [name, v] of this.hostV) tensors[`${name}.exp_avg_sq`] = tf.tensor(v.slice(), this.shapes.get(name), 'float32');
    for (const [name, m] of this.m) tensors[`${name}.exp_avg`] = tf.clone(m);
    for (const [name, v] of this.v) tensors[`${name}.exp_avg_sq`] = tf.clone(v);
    return { step: this.t, tensors };
  }

  /** Restores a checkpointed state (copies the tensors; the caller keeps ownership). */
  setState(state: AdamWState): void {
    this.disposeMoments();
    this.t = state.step;
    for (const [key, tensor] of Object.entries(state.tensors)) {
      const match = /^(.*)\.(exp_avg|exp_avg_sq)$/.exec(key);
      if (!match) throw new Error(`AdamW.setState: unexpected state key '${key}' (expected <param>.exp_avg or <param>.exp_avg_sq)`);
      if (this.moments === 'host') {
        (match[2] === 'exp_avg' ? this.hostM : this.hostV).set(match[1]!, Float32Array.from(tensor.dataSync()));
        this.shapes.set(match[1]!, tensor.shape);
        continue;
      }
      const store = match[2] === 'exp_avg' ? this.m : this.v;
      store.set(match[1]!, tf.variable(tf.cast(tensor, 'float32'), false));
    }
  }

  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
    this.hostM.clear();
    this.hostV.clear();
    this.shapes.clear();
  }

  private moment(store: Map<string, tf.Variable>, name: string, p: tf.Tensor): tf.Variable {
    let x = store.get(name);
    if (!x) {
      x = tf.variable(tf.zeros(p.shape, 'float32'), false);
      store.set(name, x);
    } else if (x.size !== p.size) {
      throw new Error(`AdamW: state for ${name} has shape [${x.shape}], parameter [${p.shape}]`);
    }
    return x;
  }
}
