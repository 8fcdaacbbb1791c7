"""The model around the blocks (docs/model.md#standard-and-looped-model; host/model/): read-in,
positional table, L blocks per iteration, LN_f after every iteration, read-out at the x tokens.

    Y_0 = 0;  Y_t = LN_f(B_L(...B_1(inject(Y_{t-1}, E, P))));  y_hat_t = read_out(Y_t[x tokens])"""

import torch
from torch import nn


def tokens(xs, ys):
    """Prompts [B, n, d] and labels [B, n] as 2n tokens [x_0, (y_0, 0..0), x_1, ...]: [B, 2n, d]."""
    b, n, d = xs.shape
    y_wide = torch.zeros_like(xs)
    y_wide[:, :, 0] = ys
    return torch.stack((xs, y_wide), dim=2).reshape(b, 2 * n, d)


class LoopedModel(nn.Module):
    """Parameters read_in, wpe (with positions), blocks.<i>, ln_f, read_out, named as in
    `looplab export`'s state dict. `loops` is the trained b (1 for a standard model)."""

    def __init__(self, n_dims, n_embd, max_points, blocks, positions=None, loops=1, eval_iterations=None):
        super().__init__()
        if not blocks:
            raise ValueError("a model needs at least one block")
        if positions is None:  # the `positions = "auto"` rule
            positions = any(block.wants_positions for block in blocks)
        self.max_points = max_points
        self.loops = loops
        self.eval_iterations = list(eval_iterations or [loops])
        self.read_in = nn.Linear(n_dims, n_embd)
        self.wpe = nn.Parameter(torch.empty(2 * max_points + 1, n_embd).normal_(0.0, 0.02)) if positions else None
        self.blocks = nn.ModuleList(blocks)
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        self.read_out = nn.Linear(n_embd, 1)

    def states(self, xs, ys, iterations):
        """The state Y_t [B, 2n, D] after each iteration t = 1..iterations (a generator)."""
        n = xs.shape[1]
        if n > self.max_points:
            raise ValueError(f"prompt has {n} points; the model was built for {self.max_points}")
        e = self.read_in(tokens(xs, ys))
        p = None if self.wpe is None else self.wpe[: 2 * n].unsqueeze(0)
        y = torch.zeros_like(e)
        for _ in range(iterations):
            h = self.blocks[0].inject(y, e, p)  # only the first block injects
            for block in self.blocks:
                h = block(h)
            y = self.ln_f(h)
            yield y

    def run(self, xs, ys, iterations, report=None):
        """Predictions [B, n] after each iteration count in `report` (default: every one of
        1..iterations), as a list in that order."""
        report = sorted(set(report or range(1, iterations + 1)))
        if report[0] < 1 or report[-1] > iterations:
            raise ValueError(f"report iterations must lie in 1..{iterations}")
        out = []
        for t, y in enumerate(self.states(xs, ys, report[-1]), start=1):
            if t in report:
                out.append(self.read_out(y[:, 0::2]).squeeze(-1))
        return out

    def forward(self, xs, ys, iterations=None):
        """Predictions [B, n] after `iterations` iterations (default: the trained b).
        y_hat_j is read at the x_j token and depends on x_0, y_0, ..., x_j only."""
        return self.run(xs, ys, iterations or self.loops, [iterations or self.loops])[0]
