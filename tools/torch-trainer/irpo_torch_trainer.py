#!/usr/bin/python3
"""DPO+NLL in PyTorch, as irpo's own trainer computes it, for `training.launch`.

A trainer for the tokens pairs format (training.pairsFormat: tokens): prompt_ids, chosen_ids and
rejected_ids per line, exactly the ids irpo's reference and training read. It needs Debian's
python3-torch and numpy only (no transformers): the Llama/Qwen2 decoder is written below from
Hugging Face's modelling conventions (pre-RMSNorm, rotate-half RoPE, grouped-query attention,
SwiGLU MLP, tied or separate head), safetensors are read and written by hand.

    training:
      pairsFormat: tokens
      launch: /usr/bin/python3 tools/torch-trainer/irpo_torch_trainer.py --model {model} --pairs {pairs} --out {out} --config {config} --iteration {iter}

What it does, as irpo's trainer does (packages/core losses and optim, packages/trainer loop):
reference log-probs of every pair under the starting weights (= M(t-1)); then for each optimiser
step, `gradAccum` micro-batches of `batchSize` pairs, chosen and rejected rows right-padded in one
forward; per pair DPO softplus(-beta * margin) (with label smoothing) plus alpha times the
winner's NLL over its length (or over the micro-batch's mean length with nllNormalization
token-mean); the micro-batch loss is the mean over pairs, gradients are averaged over the
micro-batches, clipped to maxGradNorm (coefficient maxNorm / (norm + 1e-6), at most 1), and
applied by AdamW (torch's, weight decay off for norms and biases) at the schedule's rate.
One difference: pairs are taken in file order (irpo shuffles them by length buckets with its own
generator), so a run matches irpo's step for step only when both see the same order.

Writes {out}/config.json, {out}/model.safetensors (float32) and {out}/metrics.jsonl (one line per
step, under irpo's names). --dump-first-step DIR also writes the first step's loss and its
averaged, unclipped gradients (DIR/first-step.json, DIR/grads.safetensors), for comparing the
maths with irpo's.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def fail(message):
    print(f'irpo_torch_trainer: {message}', file=sys.stderr)
    sys.exit(2)


# --- safetensors ---------------------------------------------------------------------------

def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    start = 8 + n
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        raw = data[start + a:start + b]
        if e['dtype'] == 'F32':
            arr = np.frombuffer(raw, dtype='<f4').astype(np.float32)
        elif e['dtype'] == 'F16':
            arr = np.frombuffer(raw, dtype='<f2').astype(np.float32)
        elif e['dtype'] == 'BF16':
            arr = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            fail(f'{path}: {name}: dtype {e["dtype"]} is not supported (F32, F16, BF16)')
        out[name] = torch.from_numpy(arr.copy()).reshape(e['shape'])
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_weights(model_dir):
    single = os.path.join(model_dir, 'model.safetensors')
    if os.path.exists(single):
        return read_safetensors(single)
    index = os.path.join(model_dir, 'model.safetensors.index.json')
    if not os.path.exists(index):
        fail(f'{model_dir}: no model.safetensors or model.safetensors.index.json')
    with open(index) as f:
        shards = sorted(set(json.load(f)['weight_map'].values()))
    out = {}
    for s in shards:
        out.update(read_safetensors(os.path.join(model_dir, s)))
    return out


# --- the decoder ---------------------------------------------------------------------------

class Decoder:
    """A Llama/Qwen2 causal LM over a dict of named parameters (Hugging Face names)."""

    def __init__(self, cfg, params):
        self.cfg = cfg
        self.p = params
        self.h = cfg['hidden_size']
        self.nh = cfg['num_attention_heads']
        self.nkv = cfg.get('num_key_value_heads', self.nh)
        self.d = cfg.get('head_dim') or self.h // self.nh
        self.eps = cfg.get('rms_norm_eps', 1e-6)
        self.tied = cfg.get('tie_word_embeddings', False)
        scaling = cfg.get('rope_scaling')
        if scaling:
            fail(f'rope_scaling {scaling} is not supported by this trainer')
        theta = cfg.get('rope_theta', 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.float64) / self.d))

    def norm(self, x, name):
        return self.p[name] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def linear(self, x, name):
        y = x @ self.p[name + '.weight'].T
        bias = self.p.get(name + '.bias')
        return y if bias is None else y + bias

    def logits(self, ids, mask):
        """ids, mask [B, T] (right-padded) -> logits [B, T, V]."""
        B, T = ids.shape
        dtype = self.p['model.embed_tokens.weight'].dtype
        freqs = torch.arange(T, dtype=torch.float64)[:, None] * self.inv_freq[None]  # [T, d/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)  # [T, d]
        allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
        bias = torch.zeros(B, 1, T, T, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        x = self.p['model.embed_tokens.weight'][ids]  # [B, T, H]
        for i in range(self.cfg['num_hidden_layers']):
            pre = f'model.layers.{i}.'
            h = self.norm(x, pre + 'input_layernorm.weight')
            q = self.linear(h, pre + 'self_attn.q_proj').view(B, T, self.nh, self.d).transpose(1, 2)
            k = self.linear(h, pre + 'self_attn.k_proj').view(B, T, self.nkv, self.d).transpose(1, 2)
            v = self.linear(h, pre + 'self_attn.v_proj').view(B, T, self.nkv, self.d).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            rep = self.nh // self.nkv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(self.d) + bias, dim=-1)  # [B, nh, T, T]
            o = (att @ v).transpose(1, 2).reshape(B, T, self.nh * self.d)
            x = x + self.linear(o, pre + 'self_attn.o_proj')
            h = self.norm(x, pre + 'post_attention_layernorm.weight')
            x = x + self.linear(F.silu(self.linear(h, pre + 'mlp.gate_proj')) * self.linear(h, pre + 'mlp.up_proj'), pre + 'mlp.down_proj')
        x = self.norm(x, 'model.norm.weight')
        head = self.p['model.embed_tokens.weight'] if self.tied else self.p['lm_head.weight']
        return x @ head.T


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def sequence_logps(model, rows, pad):
    """Summed log-probs of each row's response given its prompt: rows of (prompt_ids, response_ids) -> [B]."""
    seqs = [p + r for p, r in rows]
    T = max(1, max(len(s) - 1 for s in seqs))
    ids = torch.full((len(rows), T), pad, dtype=torch.long)
    targets = torch.full((len(rows), T), pad, dtype=torch.long)
    mask = torch.zeros(len(rows), T)
    loss_mask = torch.zeros(len(rows), T)
    for b, ((p, _), s) in enumerate(zip(rows, seqs)):
        n = len(s) - 1
        ids[b, :n] = torch.tensor(s[:-1])
        targets[b, :n] = torch.tensor(s[1:])
        mask[b, :n] = 1
        loss_mask[b, max(0, len(p) - 1):n] = 1  # targets that are response tokens
    logp = torch.log_softmax(model.logits(ids, mask), dim=-1)
    picked = logp.gather(-1, targets[..., None])[..., 0]
    return (picked * loss_mask.to(picked.dtype)).sum(-1)


# --- the loss, as packages/core computes it ------------------------------------------------

def pair_losses(pol_c, pol_r, ref_c, ref_r, chosen_lengths, t):
    beta, eps = t['beta'], t['labelSmoothing']
    margin = (pol_c - ref_c) - (pol_r - ref_r)
    z = beta * margin
    dpo = (1 - eps) * F.softplus(-z) + (eps * F.softplus(z) if eps > 0 else 0)
    lengths = torch.clamp(chosen_lengths.to(pol_c.dtype), min=1)
    denom = lengths if t['nllNormalization'] == 'per-sequence' else lengths.mean()
    nll = -pol_c / denom
    loss = dpo + t['alpha'] * nll if t['loss'] == 'dpo-nll' else dpo
    chosen, rejected = beta * (pol_c - ref_c), beta * (pol_r - ref_r)
    metrics = {
        'dpo': dpo.mean(), 'nll': nll.mean(),
        'rewards/chosen': chosen.mean(), 'rewards/rejected': rejected.mean(),
        'rewards/margins': (chosen - rejected).mean(), 'rewards/accuracies': (chosen > rejected).to(dpo.dtype).mean(),
        'logps/chosen': pol_c.mean(), 'logps/rejected': pol_r.mean(),
    }
    return loss, metrics


def schedule(t, total):
    warmup = min(t['warmupSteps'], max(0, total - 1))
    kind = t['schedule']
    def lr(step):
        if step < warmup:
            return t['lr'] * step / warmup
        if kind == 'constant' or total <= warmup:
            return t['lr']
        progress = min(1.0, (step - warmup) / (total - warmup))
        shape = 0.5 * (1 + math.cos(math.pi * progress)) if kind == 'cosine' else 1 - progress
        return t['lr'] * shape
    return lr


def no_decay(name):
    return 'norm' in name.lower() or name.endswith('.bias')


# --- the run --------------------------------------------------------------------------------

def read_pairs(path):
    pairs = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            for k in ('prompt_ids', 'chosen_ids', 'rejected_ids'):
                if not isinstance(row.get(k), list):
                    fail(f'{path}:{i}: {k}: missing; this trainer reads training.pairsFormat tokens')
            pairs.append(row)
    if not pairs:
        fail(f'{path}: no pairs')
    return pairs


def settings(config_file, iteration):
    with open(config_file) as f:
        c = json.load(f)
    c = c.get('config', c)  # run.json holds the resolved config under `config`
    t = c['training']
    if t.get('lora'):
        fail('training.lora is not supported by this trainer (full fine-tuning only)')
    if t['loss'] not in ('dpo-nll', 'dpo'):
        fail(f'training.loss {t["loss"]} is not supported by this trainer (dpo-nll, dpo)')
    it = dict(c['iteration'])
    overrides = c.get('overrides', [])
    if iteration - 1 < len(overrides):
        it.update({k: v for k, v in overrides[iteration - 1].items() if v is not None})
    return t, it


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', required=True, help='M(t-1): the starting weights and the reference')
    ap.add_argument('--pairs', required=True, help='pairs in the tokens format')
    ap.add_argument('--out', required=True)
    ap.add_argument('--config', required=True, help="the run's run.json (or a resolved run config as JSON)")
    ap.add_argument('--iteration', type=int, default=1)
    ap.add_argument('--dtype', choices=['float32', 'float64'], default='float32')
    ap.add_argument('--dump-first-step', help='folder for the first step loss and gradients')
    args = ap.parse_args()

    dtype = torch.float64 if args.dtype == 'float64' else torch.float32
    torch.manual_seed(0)
    t, it = settings(args.config, args.iteration)
    with open(os.path.join(args.model, 'config.json')) as f:
        cfg = json.load(f)
    pad = cfg.get('pad_token_id')
    if pad is None:
        eos = cfg.get('eos_token_id')
        pad = (eos[0] if isinstance(eos, list) else eos) or 0
    weights = read_weights(args.model)
    params = {k: v.to(dtype).requires_grad_(True) for k, v in weights.items()}
    model = Decoder(cfg, params)
    pairs = read_pairs(args.pairs)

    B, accum = t['batchSize'], t['gradAccum']
    batches = [list(range(i, min(i + B, len(pairs)))) for i in range(0, len(pairs), B)]
    per_epoch = math.ceil(len(batches) / accum)
    total = max(1, round(it['epochs'] * per_epoch))
    if it.get('maxSteps'):
        total = min(total, it['maxSteps'])

    def rows(items, key):
        return [(pairs[i]['prompt_ids'], pairs[i][key]) for i in items]

    with torch.no_grad():  # the reference: M(t-1) before any update
        ref = {}
        for items in batches:
            lp = sequence_logps(model, rows(items, 'chosen_ids') + rows(items, 'rejected_ids'), pad)
            for j, i in enumerate(items):
                ref[i] = (lp[j].item(), lp[len(items) + j].item())
    print(f'reference log-probs of {len(pairs)} pairs; {total} steps of {B} pairs x {accum}', flush=True)

    names = sorted(params)
    groups = [
        {'params': [params[n] for n in names if not no_decay(n)], 'weight_decay': t['weightDecay']},
        {'params': [params[n] for n in names if no_decay(n)], 'weight_decay': 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=t['lr'], betas=(t['adamBeta1'], t['adamBeta2']), eps=t['adamEps'])
    lr_at = schedule(t, total)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, 'metrics.jsonl'), 'w')
    cursor = 0
    for step in range(total):
        grads = {n: torch.zeros_like(params[n]) for n in names}
        sums, loss_sum = {}, 0.0
        for _ in range(accum):
            items = batches[cursor % len(batches)]
            cursor += 1
            n = len(items)
            lp = sequence_logps(model, rows(items, 'chosen_ids') + rows(items, 'rejected_ids'), pad)
            ref_c = torch.tensor([ref[i][0] for i in items], dtype=dtype)
            ref_r = torch.tensor([ref[i][1] for i in items], dtype=dtype)
            lengths = torch.tensor([len(pairs[i]['chosen_ids']) for i in items])
            losses, metrics = pair_losses(lp[:n], lp[n:], ref_c, ref_r, lengths, t)
            loss = losses.mean()
            g = torch.autograd.grad(loss, [params[k] for k in names])
            for k, gk in zip(names, g):
                grads[k] += gk / accum
            loss_sum += loss.item()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v.item()
        if step == 0 and args.dump_first_step:
            os.makedirs(args.dump_first_step, exist_ok=True)
            write_safetensors(os.path.join(args.dump_first_step, 'grads.safetensors'), grads)
            with open(os.path.join(args.dump_first_step, 'first-step.json'), 'w') as f:
                json.dump({'loss': loss_sum / accum, 'dtype': args.dtype}, f)
        norm = math.sqrt(sum(float((g.to(torch.float64) ** 2).sum()) for g in grads.values()))
        coef = min(t['maxGradNorm'] / (norm + 1e-6), 1.0) if t['maxGradNorm'] > 0 else 1.0
        for k in names:
            params[k].grad = grads[k] * coef
        lr = lr_at(step)
        for group in opt.param_groups:
            group['lr'] = lr
        opt.step()
        record = {'step': step + 1, 'epoch': (step + 1) / total * it['epochs'], 'loss': loss_sum / accum,
                  **{k: v / accum for k, v in sums.items()}, 'grad_norm': norm, 'lr': lr}
        log.write(json.dumps(record) + '\n')
        log.flush()
        print(f'step {step + 1}/{total} loss {record["loss"]:.4f} margin {record["rewards/margins"]:.4f}', flush=True)
    log.close()

    out = {k: v for k, v in params.items()}
    write_safetensors(os.path.join(args.out, 'model.safetensors'), out)
    cfg_out = dict(cfg, torch_dtype='float32')
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(cfg_out, f, indent=2)
    print(f'saved {args.out}', flush=True)


if __name__ == '__main__':
    main()
