"""What every block shares with the looped model around it (docs/model.md#blocks)."""

import torch
from torch import nn


class Block(nn.Module):
    """A block maps hidden states [B, S, D] to [B, S, D] causally (sdk::Block)."""

    #: Whether the model should add the positional table (the `positions = "auto"` rule).
    wants_positions = True

    def inject(self, y, e, p):
        """What the first block of an iteration receives: Y + E + P (P may be None)."""
        return y + e if p is None else y + e + p


class Wrapped(Block):
    """A plain module as a block under the name `block`, as the C++ plugins register it
    (so its weights are `blocks.<i>.block.<name>`)."""

    def __init__(self, block, wants_positions=True):
        super().__init__()
        self.block = block
        self.wants_positions = wants_positions

    def forward(self, h):
        return self.block(h)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight over the last dimension."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps) * self.weight


class CausalConv1d(nn.Module):
    """Depthwise convolution over time that only looks back: output t sees inputs t-K+1..t,
    zeros before position 0. Weights `conv.weight` [C, 1, K] and `conv.bias` [C]."""

    def __init__(self, channels, kernel):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, groups=channels, bias=True)

    def forward(self, x):  # [B, S, C] -> [B, S, C]
        k = self.conv.kernel_size[0]
        return self.conv(nn.functional.pad(x.transpose(1, 2), (k - 1, 0))).transpose(1, 2)


def inverse_softplus_dt(n, dt_min, dt_max):
    """Mamba's step-size init: dt log-uniform in [dt_min, dt_max], through softplus^-1."""
    lo, hi = torch.log(torch.tensor(dt_min, dtype=torch.float64)), torch.log(torch.tensor(dt_max, dtype=torch.float64))
    dt = torch.exp(torch.rand(n, dtype=torch.float64) * (hi - lo) + lo)
    return (dt + torch.log(-torch.expm1(-dt))).float()
