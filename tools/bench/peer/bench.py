#!/usr/bin/python3
"""PyTorch peer of tools/bench: the same Llama-shaped model, shapes and phases, written in plain
torch (no transformers), printing the same JSON lines with framework "torch".

    /usr/bin/python3 tools/bench/peer/bench.py --config tiny --phase all [--threads 2] [--reps N]

Where torch is absent it prints one line saying so on stderr and exits 0 (the peer is optional).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

# libgomp's threads spin while they wait; on a shared, oversubscribed 2-core machine that made
# torch's tiny decode 20x slower (236 vs 5.8k tokens/s). Must be set before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the peer is optional
    sys.stderr.write("peer: torch is not installed for %s; skipping the PyTorch peer "
                     "(Debian: apt-get install python3-torch)\n" % sys.executable)
    sys.exit(0)

# Same table as tools/bench/src/configs.ts.
CONFIGS = {
    "tiny": dict(vocab=512, d=128, layers=4, heads=4, kv=4, ffn=344, tied=False,
                 seq=128, pairs=16, prompt=64, rows=32, new=64, sample_prompt=16, reps=7),
    "small": dict(vocab=8192, d=512, layers=8, heads=8, kv=2, ffn=1376, tied=False,
                  seq=256, pairs=8, prompt=128, rows=16, new=64, sample_prompt=16, reps=5),
    "smollm": dict(vocab=49152, d=576, layers=30, heads=9, kv=3, ffn=1536, tied=True,
                   seq=256, pairs=4, prompt=128, rows=8, new=32, sample_prompt=16, reps=2),
    "smollm360": dict(vocab=49152, d=960, layers=32, heads=15, kv=5, ffn=2560, tied=True,
                      seq=256, pairs=4, prompt=128, rows=8, new=32, sample_prompt=16, reps=1),
}


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv = c["d"], c["heads"], c["kv"]
        self.h, self.kv, self.hd = h, kv, d // h
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)
        self.q_proj = torch.nn.Linear(d, h * self.hd, bias=False)
        self.k_proj = torch.nn.Linear(d, kv * self.hd, bias=False)
        self.v_proj = torch.nn.Linear(d, kv * self.hd, bias=False)
        self.o_proj = torch.nn.Linear(h * self.hd, d, bias=False)
        self.gate_proj = torch.nn.Linear(d, c["ffn"], bias=False)
        self.up_proj = torch.nn.Linear(d, c["ffn"], bias=False)
        self.down_proj = torch.nn.Linear(c["ffn"], d, bias=False)

    def forward(self, x, cos, sin, bias, past):
        b, t, _ = x.shape
        n = self.input_layernorm(x)
        q = self.q_proj(n).view(b, t, self.h, self.hd).transpose(1, 2)  # [B, h, T, hd]
        k = self.k_proj(n).view(b, t, self.kv, self.hd).transpose(1, 2)  # [B, kv, T, hd]
        v = self.v_proj(n).view(b, t, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], 2)
            v = torch.cat([past[1], v], 2)
        present = (k, v)
        rep = self.h // self.kv
        kr = k.repeat_interleave(rep, 1) if rep > 1 else k  # HF repeat_kv
        vr = v.repeat_interleave(rep, 1) if rep > 1 else v
        scores = (q @ kr.transpose(-1, -2)) / math.sqrt(self.hd) + bias  # [B, h, T, Tk]
        ctx = torch.softmax(scores, -1) @ vr  # [B, h, T, hd]
        x = x + self.o_proj(ctx.transpose(1, 2).reshape(b, t, -1))
        n = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(n)) * self.up_proj(n))
        return x, present


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c["vocab"], c["d"])
        self.layers = torch.nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["d"])
        self.lm_head = None if c["tied"] else torch.nn.Linear(c["d"], c["vocab"], bias=False)
        hd = c["d"] // c["heads"]
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd)), persistent=False)
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids, positions, bias, past=None, select=None):
        """ids [B,T], positions [B,T] float, bias [B|1,1,T,Tk] additive → logits [B,T,V], new kv.
        With select (bool [B,T]): logits [N,V] of the selected positions only (as irpo's forwardAt)."""
        freqs = positions[..., None] * self.inv_freq  # [B, T, hd/2]
        emb = torch.cat([freqs, freqs], -1)[:, None]  # [B, 1, T, hd]
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, kv = layer(x, cos, sin, bias, past[i] if past else None)
            presents.append(kv)
        x = self.norm(x)
        if select is not None:
            x = x[select]  # [N, d]: the head and softmax run on the response positions only
        w = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return x @ w.t(), presents


def lcg_ids(count, vocab, seed):
    out, s = [], seed
    for _ in range(count):
        s = (s * 1664525 + 1013904223) % 2**32
        out.append(1 + s % (vocab - 1))
    return out


def pair_batch(c):
    rows, seq = 2 * c["pairs"], c["seq"]
    full = torch.tensor(lcg_ids(rows * (seq + 1), c["vocab"], 1)).view(rows, seq + 1)
    mask = (torch.arange(seq) + 1 >= c["prompt"]).float().expand(rows, seq)
    return full[:, :-1].contiguous(), full[:, 1:].contiguous(), mask


def causal_bias(t):
    return torch.triu(torch.full((t, t), -1e9), 1)[None, None]  # [1, 1, T, T]


def selected_logps(logits, targets, mask):
    """Logits [N,V] at the positions where mask is 1 → summed log-probs per row [B]."""
    select = mask.bool()
    rows = torch.arange(mask.shape[0])[:, None].expand_as(mask)[select]
    picked = torch.log_softmax(logits, -1).gather(-1, targets[select][:, None])[:, 0]
    return torch.zeros(mask.shape[0]).index_add(0, rows, picked)


def train_phase(c):
    model = Llama(c)
    ids, targets, mask = pair_batch(c)
    t = c["seq"]
    positions = torch.arange(t).float()[None]
    bias = causal_bias(t)
    resp = t - c["prompt"] + 1
    ref = torch.full((c["pairs"],), -resp * math.log(c["vocab"]))
    decay = [p for n, p in model.named_parameters() if "norm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)

    select = mask.bool()

    def step():
        logits, _ = model(ids, positions, bias, select=select)
        logps = selected_logps(logits, targets, mask)
        pc, pr = logps.chunk(2)
        margin = (pc - ref) - (pr - ref)
        loss = (F.softplus(-0.1 * margin) + (-pc / resp)).mean()  # dpo + alpha·nll, alpha 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        assert math.isfinite(loss.item())

    return 2 * c["pairs"] * t, step


def reflogp_phase(c):
    model = Llama(c)
    ids, targets, mask = pair_batch(c)
    positions = torch.arange(c["seq"]).float()[None]
    bias = causal_bias(c["seq"])

    select = mask.bool()

    def step():
        with torch.no_grad():
            logits, _ = model(ids, positions, bias, select=select)
            selected_logps(logits, targets, mask).tolist()

    return 2 * c["pairs"] * c["seq"], step


def sample_phase(c):
    """KV-cache decoding at temperature 0.8, one token per row per step, as the LocalEngine does."""
    model = Llama(c)
    rows, p = c["rows"], c["sample_prompt"]
    prompt = torch.tensor(lcg_ids(p, 90, 7))[None].expand(rows, p)
    gen = torch.Generator().manual_seed(0)

    def step():
        with torch.no_grad():
            logits, past = model(prompt, torch.arange(p).float()[None], causal_bias(p))
            nxt = logits[:, -1]
            zero = torch.zeros(1, 1, 1, 1)
            for i in range(c["new"]):
                probs = torch.softmax(nxt / 0.8, -1)
                tok = torch.multinomial(probs, 1, generator=gen)  # [B, 1]
                tok.tolist()  # the host sees every token (stop strings, streaming), as in irpo
                if i == c["new"] - 1:
                    break
                logits, past = model(tok, torch.full((rows, 1), float(p + i)), zero, past)
                nxt = logits[:, -1]

    return rows * c["new"], step


def blas_libraries():
    """The BLAS libraries this process has loaded (after one matmul): reference BLAS or OpenBLAS."""
    a = torch.ones(64, 64)
    a @ a
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line})


def openblas_config(libs):
    """OpenBLAS's build string and the kernel it chose (openblas_get_corename), when it is loaded."""
    import ctypes
    for lib in libs:
        if "openblas" not in lib.lower():
            continue
        try:
            so = ctypes.CDLL(lib)
            so.openblas_get_config.restype = ctypes.c_char_p
            so.openblas_get_corename.restype = ctypes.c_char_p
            return "%s; core %s" % (so.openblas_get_config().decode(), so.openblas_get_corename().decode())
        except (OSError, AttributeError):
            continue
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--phase", default="all")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the machine has 2 cores)")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    phases = ["train", "reflogp", "sample"] if a.phase == "all" else a.phase.split(",")
    c = CONFIGS[a.config]
    reps = a.reps or c["reps"]
    torch.set_num_threads(a.threads)
    for phase in phases:
        if len(phases) > 1:  # one process per phase, so peak RSS is the phase's own
            cmd = [sys.executable, __file__, "--config", a.config, "--phase", phase, "--threads", str(a.threads), "--warmup", str(a.warmup)]
            if a.reps:
                cmd += ["--reps", str(a.reps)]
            import subprocess
            rc = subprocess.call(cmd)
            if rc:
                sys.exit(rc)
            continue
        torch.manual_seed(0)
        libs = blas_libraries()
        openblas = openblas_config(libs)
        if openblas is None:
            sys.stderr.write("peer: torch runs on %s, not OpenBLAS: its matmuls are ~10x slower than with OpenBLAS "
                             "(see tools/bench/README.md, IRPO_BENCH_BLAS_DIR)\n" % (", ".join(libs) or "no BLAS"))
        tokens, step = {"train": train_phase, "reflogp": reflogp_phase, "sample": sample_phase}[phase](c)
        for _ in range(a.warmup):
            step()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        med = statistics.median(times)
        line = {
            "framework": "torch", "backend": "cpu", "config": a.config, "phase": phase,
            "tokens_per_s": round(tokens / med * 1000), "median_ms": round(med, 1), "reps": reps,
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "wasm_heap_mb": None,
            "min_ms": round(min(times), 1), "times_ms": [round(x, 1) for x in times], "tokens": tokens,
            "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
            "malloc": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "GLIBC_TUNABLES"},
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"), "blas": libs, "openblas": openblas,
            "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
        }
        if reps < 5:
            line["note"] = "only %d timed repetitions (fewer than the usual 5)" % reps
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
