"""The `mamba` block (docs/model.md#mamba-1-block; plugins/blocks/mamba/mamba_block.cpp):
h + W_out(y * SiLU(z)) with y the selective scan of SiLU(conv(x0)), [x0, z] = W_in RMSNorm(h).
The scan runs as the plain recurrence, one position at a time."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .block import CausalConv1d, RMSNorm, Wrapped, inverse_softplus_dt


def selective_scan(x, delta, A, B, C, D):
    """h_t = exp(delta_t A) h_{t-1} + delta_t B_t x_t, y_t = C_t . h_t + D x_t, h_{-1} = 0.
    x, delta [Bt, S, Di]; A [Di, N]; B, C [Bt, S, N]; D [Di] -> y [Bt, S, Di]."""
    h = x.new_zeros(x.shape[0], x.shape[2], A.shape[1])
    ys = []
    for t in range(x.shape[1]):
        d = delta[:, t].unsqueeze(-1)  # [Bt, Di, 1]
        h = torch.exp(d * A) * h + d * B[:, t].unsqueeze(1) * x[:, t].unsqueeze(-1)
        ys.append((h * C[:, t].unsqueeze(1)).sum(-1))
    return torch.stack(ys, 1) + D * x


class MambaBlock(nn.Module):
    """Parameters norm, in_proj, conv, x_proj, dt_proj, A_log, D, out_proj."""

    def __init__(self, n_embd, d_state=16, d_conv=4, expand=2, dt_rank=0, dt_min=1e-3, dt_max=1e-1, dt_scale=1.0,
                 depth=1, norm_eps=1e-5):
        super().__init__()
        di, n = expand * n_embd, d_state
        r = dt_rank if dt_rank > 0 else (n_embd + 15) // 16
        self.d_inner, self.d_state, self.dt_rank = di, n, r
        self.norm = RMSNorm(n_embd, norm_eps)
        self.in_proj = nn.Linear(n_embd, 2 * di, bias=False)
        self.conv = CausalConv1d(di, d_conv)
        self.x_proj = nn.Linear(di, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, di, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).expand(di, n).clone())
        self.D = nn.Parameter(torch.ones(di))
        self.out_proj = nn.Linear(di, n_embd, bias=False)
        with torch.no_grad():
            self.out_proj.weight.div_(math.sqrt(depth))
            s = dt_scale / math.sqrt(r)
            self.dt_proj.weight.uniform_(-s, s)
            self.dt_proj.bias.copy_(inverse_softplus_dt(di, dt_min, dt_max))

    def forward(self, h):  # [B, S, D] -> [B, S, D]
        x0, z = self.in_proj(self.norm(h)).split(self.d_inner, -1)
        x = F.silu(self.conv(x0))
        d0, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], -1)
        delta = F.softplus(self.dt_proj(d0))
        y = selective_scan(x, delta, -torch.exp(self.A_log), B, C, self.D)
        return h + self.out_proj(y * F.silu(z))


def build(params, n_embd, depth, index):
    """The `mamba` block from its resolved pipeline parameters (`scan` only picks how the C++
    computes the same recurrence)."""
    return Wrapped(MambaBlock(n_embd, int(params.get("d_state", 16)), int(params.get("d_conv", 4)),
                              int(params.get("expand", 2)), int(params.get("dt_rank", 0)),
                              float(params.get("dt_min", 1e-3)), float(params.get("dt_max", 1e-1)),
                              float(params.get("dt_scale", 1.0)), depth, float(params.get("norm_eps", 1e-5))),
                   wants_positions=False)
