#!/usr/bin/python3
"""Eager PyTorch peer of model_benchmark: the same models, LoRA setup and measurements.

Run with Debian's python3-torch: /usr/bin/python3 tests/bench/model_eager_reference.py
It prints the same table as model_benchmark so the two can be compared side by side. The
stories260K row uses random weights of the checkpoint's shapes, because speed does not depend on
the values.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


class LoraLinear(torch.nn.Module):
    """A frozen bias-free linear layer with one LoRA adapter (PEFT's layout and init)."""

    def __init__(self, in_features, out_features, r=16, lora_alpha=32, lora_dropout=0.05):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(out_features, in_features) * 0.02,
                                         requires_grad=False)
        self.lora_A = torch.nn.Parameter(torch.empty(r, in_features))
        self.lora_B = torch.nn.Parameter(torch.zeros(out_features, r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = lora_alpha / r
        self.dropout = torch.nn.Dropout(lora_dropout)

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(self.dropout(x), self.lora_A),
                                                   self.lora_B) * self.scaling


def rms_norm(x, weight, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class Block(torch.nn.Module):
    def __init__(self, dim, hidden, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        kv_dim = kv_heads * self.head_dim
        self.attn_norm = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.q, self.k = LoraLinear(dim, dim), LoraLinear(dim, kv_dim)
        self.v, self.o = LoraLinear(dim, kv_dim), LoraLinear(dim, dim)
        self.gate, self.up = LoraLinear(dim, hidden), LoraLinear(dim, hidden)
        self.down = LoraLinear(hidden, dim)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = rms_norm(x, self.attn_norm)
        q = self.q(h).view(b, t, self.heads, self.head_dim)
        k = self.k(h).view(b, t, self.kv_heads, self.head_dim)
        v = self.v(h).view(b, t, self.kv_heads, self.head_dim)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o(context)
        h = rms_norm(x, self.mlp_norm)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    first, second = x[..., :half], x[..., half:]
    return torch.cat([first * cos - second * sin, second * cos + first * sin], -1)


class Model(torch.nn.Module):
    def __init__(self, dim, hidden, layers, heads, kv_heads, vocab, seq, tied):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(vocab, dim) * 0.02, requires_grad=False)
        self.blocks = torch.nn.ModuleList(
            Block(dim, hidden, heads, kv_heads) for _ in range(layers))
        self.norm = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.head = self.embed if tied else torch.nn.Parameter(
            torch.randn(vocab, dim) * 0.02, requires_grad=False)
        head_dim = dim // heads
        freqs = 10000.0 ** (-torch.arange(0, head_dim // 2, dtype=torch.float64) * 2 / head_dim)
        angles = torch.outer(torch.arange(seq, dtype=torch.float64), freqs)
        self.cos = angles.cos().float()[None, :, None, :]
        self.sin = angles.sin().float()[None, :, None, :]
        self.mask = torch.full((seq, seq), float("-inf")).triu(1)

    def forward(self, ids):
        t = ids.shape[1]
        x = F.embedding(ids, self.embed)
        cos, sin, mask = self.cos[:, :t], self.sin[:, :t], self.mask[:t, :t]
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        return F.linear(rms_norm(x, self.norm), self.head)


def measure(name, model_args, batch, seq, steps, peak):
    model = Model(**model_args)
    lora = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(lora, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(3, model_args["vocab"], (batch, seq))

    def train_step():
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def score_step():
        with torch.inference_mode():
            logits = model(ids)
            losses = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                     ids[:, 1:].reshape(-1), reduction="none")
            losses.view(batch, seq - 1).mean(1).sum().item()

    timings = {}
    model.train()
    for mode, step in (("LoRA train step", train_step), ("scoring", score_step)):
        if mode == "scoring":
            model.eval()
        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        timings[mode] = (time.perf_counter() - start) / steps

    dim, layers, vocab = model_args["dim"], model_args["layers"], model_args["vocab"]
    # Frozen matmul weights: the projections plus one vocab x dim output head (tied or not).
    base = sum(p.numel() for n, p in model.named_parameters() if not p.requires_grad and
               p.dim() == 2 and n not in ("embed", "head")) + vocab * dim
    lora_count = sum(p.numel() for p in lora)
    attention = 4.0 * seq * dim * layers
    flops = {"LoRA train step": 4 * base + 6 * lora_count + 3 * attention,
             "scoring": 2 * base + 2 * lora_count + attention}
    tokens = batch * seq
    for mode, seconds in timings.items():
        rate = tokens * flops[mode] / seconds
        print(f"| {name} | {batch} x {seq} | {mode} | {seconds * 1e3:.1f} | {tokens / seconds:.0f} "
              f"| {rate / 1e9:.1f} | {100 * rate / peak:.0f}% |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads; 0 uses all")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--configs", default="stories260K,dim512-8L-v32000",
                        help="comma-separated configurations to run")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = a @ b
    peak = 0.0
    for _ in range(5):
        start = time.perf_counter()
        torch.mm(a, b, out=c)
        peak = max(peak, 2 * n ** 3 / (time.perf_counter() - start))
    blas = [line for line in torch.__config__.show().splitlines() if "BLAS_INFO" in line]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{blas[0].strip() if blas else 'BLAS unknown'}, "
          f"float32 matmul peak (2048^3) {peak / 1e9:.1f} GFLOP/s\n")
    print("| config | batch x seq | mode | ms/step | tokens/s | GFLOP/s | MFU |")
    print("|---|---|---|---|---|---|---|")
    configs = args.configs.split(",")
    if "stories260K" in configs:
        measure("stories260K", dict(dim=64, hidden=172, layers=5, heads=8, kv_heads=4,
                                    vocab=512,
                                    seq=256, tied=True), 16, 256, args.steps, peak)
    if "dim512-8L-v32000" in configs:
        measure("dim512-8L-v32000", dict(dim=512, hidden=1376, layers=8, heads=8, kv_heads=8,
                                         vocab=32000, seq=256, tied=False), 8, 256, args.steps,
                peak)


if __name__ == "__main__":
    main()
