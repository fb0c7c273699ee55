#!/usr/bin/env python3
"""PyTorch-CPU baseline for `npm run bench -- model`: the same model and the same work, timed the same way.

    python3 bench/torch_model.py [--config tiny|small|all] [--steps 5] [--micro-batch 8] [--threads N] [--sample-rounds 3]

The model is laconic's default 'gpt' block (src/model/forward.ts): token embedding tied to the output
head, pre-RMSNorm (weight only, eps 1e-5), fused qkv without biases, RoPE (rotate_half, base 10000),
causal attention, tanh-GELU MLP of width 4·d, AdamW. Training: a 16 x context batch, every token a
target, split into micro-batches whose gradients are accumulated, one optimizer step per batch; one
warm-up step, then --steps timed. Sampling: 16 sequences of min(128, context-1) new tokens from a
1-token prompt at temperature 1 with a KV cache, --sample-rounds times (timed together: one run is
short next to the 10 ms resolution of CPU time). Prints one JSON line per config with the fields of
bench/model.ts (train_tokens_per_s, sample_tokens_per_s, ...). Needs `pip install torch` (CPU wheel).
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

PRESETS = {
    "tiny": dict(vocab=64, ctx=128, d=128, layers=4, heads=4),
    "small": dict(vocab=64, ctx=256, d=256, layers=6, heads=8),
}
BATCH = 16


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope_tables(T, hd, base=10000.0, offset=0):
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    t = torch.arange(offset, offset + T, dtype=torch.float32)
    f = torch.outer(t, inv)
    emb = torch.cat([f, f], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.ln1 = RMSNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.proj = torch.nn.Linear(d, d, bias=False)
        self.ln2 = RMSNorm(d)
        self.fc = torch.nn.Linear(d, 4 * d, bias=False)
        self.out = torch.nn.Linear(4 * d, d, bias=False)

    def forward(self, x, cos, sin, cache=None):
        B, T, d = x.shape
        hd = d // self.h
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.h, hd).permute(2, 0, 3, 1, 4)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        a = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None or T > 1)
        x = x + self.proj(a.transpose(1, 2).reshape(B, T, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(torch.nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.lnf = RMSNorm(d)
        self.hd = d // heads
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids, offset=0, caches=None):
        cos, sin = rope_tables(ids.shape[1], self.hd, offset=offset)
        x = self.wte(ids)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, None if caches is None else caches[i])
        return self.lnf(x) @ self.wte.weight.T


def bench(name, steps, micro, threads, rounds):
    c = PRESETS[name]
    torch.manual_seed(0)
    model = GPT(c["vocab"], c["ctx"], c["d"], c["layers"], c["heads"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    T = c["ctx"]
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(3, c["vocab"] - 1, (BATCH, T), generator=g)
    tokens[:, 0] = 1

    def step():
        opt.zero_grad(set_to_none=True)
        for s in range(0, BATCH, micro):
            ids = tokens[s : s + micro]
            logits = model(ids)[:, :-1]  # all T positions through the model, as laconic's trainStep
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum") / (BATCH * (T - 1))
            loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(steps):
        step()
    train_s = time.perf_counter() - t0
    train_cpu = time.process_time() - c0

    new = min(128, T - 1)

    @torch.no_grad()
    def sample(n_new):
        caches = [dict() for _ in model.blocks]
        ids = torch.ones(BATCH, 1, dtype=torch.long)
        out = 0
        logits = model(ids, 0, caches)
        for t in range(n_new):
            p = torch.softmax(logits[:, -1], dim=-1)
            nxt = torch.multinomial(p, 1, generator=g)
            out += BATCH
            if t + 1 < n_new:
                logits = model(nxt, t + 1, caches)
        return out

    sample(4)
    t1 = time.perf_counter()
    c1 = time.process_time()
    sampled = sum(sample(new) for _ in range(rounds))
    sample_s = time.perf_counter() - t1
    sample_cpu = time.process_time() - c1
    n_params = sum(p.numel() for p in model.parameters())
    print(
        json.dumps(
            {
                "config": name,
                "backend": f"torch {torch.__version__} cpu",
                "params": n_params,
                "train_tokens_per_s": round(BATCH * T * steps / train_s, 1),
                "sample_tokens_per_s": round(sampled / sample_s, 1),
                "train_tokens_per_cpu_s": round(BATCH * T * steps / train_cpu, 1),
                "sample_tokens_per_cpu_s": round(sampled / sample_cpu, 1),
                "train_batch": f"{BATCH}x{T}",
                "micro_batch": micro,
                "threads": threads,
                "sample": f"{BATCH}x{new}",
                "sample_rounds": rounds,
            }
        ),
        flush=True,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="all", choices=["tiny", "small", "all"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--micro-batch", type=int, default=8)
    ap.add_argument("--sample-rounds", type=int, default=3, help="sampling runs timed together (a run is short)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default: the cores)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    names = list(PRESETS) if a.config == "all" else [a.config]
    for n in names:
        bench(n, a.steps, a.micro_batch, torch.get_num_threads(), max(1, a.sample_rounds))


if __name__ == "__main__":
    main()
