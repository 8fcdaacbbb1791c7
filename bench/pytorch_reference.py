#!/usr/bin/env python3
"""An independent PyTorch implementation of looplab's training step (docs/model.md, sections
"Tokens and prompts" through "Training"), timed on the same configurations as `looplab bench`.

Same math as looplab: prompts drawn fresh each step (x ~ N(0, I), w ~ N(0, I), y = x.w),
tokens [x_1, (y_1, 0..0), ...], one read-in Linear(d -> D), a learned positional table,
pre-LN GPT-2 blocks (causal softmax attention, tanh-GELU MLP 4D, biases, LN eps 1e-5),
LN_f every iteration, looped with input injection Y + E + P, the first b - T iterations
without gradient, MSE over the last min(b, T) iterations, Adam.

Prints one JSON line per configuration (the same keys as `looplab bench --json`):
  {"config": ..., "impl": "pytorch", "ms_per_step": median, ...}
`--device cuda` runs the same step on the GPU (prompts from a CUDA generator, a synchronize
after each step, peak memory from the allocator); `--compile` wraps each block in
torch.compile (impl "pytorch-compile"; the compilation happens in the warm-up steps).
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# name: (d, points, D, heads, L, b, T, batch, looped, default reps)
CONFIGS = {
    "tiny": (3, 7, 32, 2, 1, 4, 2, 16, True, 200),
    "small": (5, 11, 64, 4, 1, 10, 5, 64, True, 40),
    "study": (10, 31, 128, 4, 1, 10, 10, 64, True, 8),
    "paper": (20, 41, 256, 8, 1, 20, 10, 64, True, 4),
    "standard12": (20, 41, 256, 8, 12, 1, 0, 64, False, 4),
}


class GptBlock(nn.Module):
    def __init__(self, D, heads, depth, std=0.02):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(D, eps=1e-5)
        self.c_attn = nn.Linear(D, 3 * D)
        self.attn_proj = nn.Linear(D, D)
        self.ln_2 = nn.LayerNorm(D, eps=1e-5)
        self.c_fc = nn.Linear(D, 4 * D)
        self.mlp_proj = nn.Linear(4 * D, D)
        with torch.no_grad():
            for layer in (self.c_attn, self.c_fc):
                layer.weight.normal_(0.0, std)
                layer.bias.zero_()
            for layer in (self.attn_proj, self.mlp_proj):
                layer.weight.normal_(0.0, std / math.sqrt(2.0 * depth))
                layer.bias.zero_()

    def forward(self, h):
        B, S, D = h.shape
        hd = D // self.heads
        q, k, v = self.c_attn(self.ln_1(h)).view(B, S, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = h + self.attn_proj(y.transpose(1, 2).reshape(B, S, D))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class LoopedModel(nn.Module):
    def __init__(self, d, points, D, heads, L):
        super().__init__()
        self.read_in = nn.Linear(d, D)
        self.wpe = nn.Parameter(torch.empty(2 * points + 1, D).normal_(0.0, 0.02))
        self.blocks = nn.ModuleList([GptBlock(D, heads, L) for _ in range(L)])
        self.ln_f = nn.LayerNorm(D, eps=1e-5)
        self.read_out = nn.Linear(D, 1)

    @staticmethod
    def tokens(xs, ys):
        B, n, d = xs.shape
        y_wide = torch.zeros_like(xs)
        y_wide[:, :, 0] = ys
        return torch.stack((xs, y_wide), dim=2).reshape(B, 2 * n, d)

    def loss(self, xs, ys, loops, window):
        kept = loops if window <= 0 or window > loops else window
        seq = 2 * xs.shape[1]
        e = self.read_in(self.tokens(xs, ys))
        p = self.wpe[:seq].unsqueeze(0)
        y = torch.zeros_like(e)
        total = None
        for t in range(1, loops + 1):
            with torch.set_grad_enabled(t > loops - kept):
                h = y + e + p
                for block in self.blocks:
                    h = block(h)
                y = self.ln_f(h)
            if t > loops - kept:
                pred = self.read_out(y[:, 0:seq:2]).squeeze(-1)
                term = (pred - ys).square().mean()
                total = term if total is None else total + term
        return total / kept


def sample(batch, points, d, gen, device):
    xs = torch.randn(batch, points, d, generator=gen, device=device)
    w = torch.randn(batch, d, 1, generator=gen, device=device)
    return xs, torch.bmm(xs, w).squeeze(-1)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench(name, reps, warmup, device, compile_blocks):
    d, points, D, heads, L, b, T, batch, looped, default_reps = CONFIGS[name]
    reps = reps or default_reps
    cuda = device.type == "cuda"
    torch.manual_seed(0)
    model = LoopedModel(d, points, D, heads, L).to(device)  # initialised on the CPU on every device
    if compile_blocks:
        for i, block in enumerate(model.blocks):
            model.blocks[i] = torch.compile(block)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator(device=device).manual_seed(1)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    times, cpu = [], []
    for i in range(warmup + reps):
        t0, c0 = time.perf_counter(), time.process_time()
        xs, ys = sample(batch, points, d, gen, device)
        loss = model.loss(xs, ys, b, T)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if cuda:  # kernels run asynchronously: the step ends when the GPU is done
            torch.cuda.synchronize(device)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i == 0:
            first_s = dt
        if i >= warmup:
            times.append(dt)
            cpu.append(dc)
    ms = statistics.median(times) * 1e3
    peak_mb = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else peak_rss_mb()
    row = {
        "config": name,
        "impl": "pytorch-compile" if compile_blocks else "pytorch",
        "ms_per_step": round(ms, 3),
        "ms_min": round(min(times) * 1e3, 3),
        # CPU time of the process (all threads): robust to other processes holding the cores.
        "cpu_ms": round(statistics.median(cpu) * 1e3, 3),
        "tokens_per_s": round(batch * 2 * points / (ms / 1e3), 1),
        "peak_mb": round(peak_mb, 1),
        "reps": reps,
        "threads": torch.get_num_threads(),
        "loss": float(loss.detach()),
    }
    if cuda or compile_blocks:  # the CPU rows keep the keys scripts/bench.sh has always read
        row.update(device=str(device), first_step_s=round(first_s, 3))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="repeatable; default all")
    ap.add_argument("--reps", type=int, default=0, help="timed steps (default per config)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave as is)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--compile", action="store_true", help="torch.compile each block (compiled during warm-up)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch sees no CUDA device")
    device = torch.device(args.device)
    for name in args.config or list(CONFIGS):
        print(json.dumps(bench(name, args.reps, args.warmup, device, args.compile)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
