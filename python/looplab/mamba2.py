"""The `mamba2` block (docs/model.md#mamba-2-block; plugins/blocks/mamba/mamba2_block.cpp):
h + W_out RMSNorm_out(y * SiLU(z)) with y the SSD of SiLU(conv(xBC)), one scalar A per head.
The SSD runs as the plain recurrence (looplab's default computes it in chunks)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .block import CausalConv1d, RMSNorm, Wrapped, inverse_softplus_dt


def ssd(x, dt, A, B, C, D):
    """S_t = exp(dt_t A_h) S_{t-1} + dt_t x_t B_t^T, y_t = S_t C_t + D_h x_t, S_{-1} = 0.
    x [Bt, S, H, P]; dt [Bt, S, H]; A, D [H]; B, C [Bt, S, N] -> y [Bt, S, H, P]."""
    state = x.new_zeros(x.shape[0], x.shape[2], x.shape[3], B.shape[2])  # [Bt, H, P, N]
    ys = []
    for t in range(x.shape[1]):
        decay = torch.exp(dt[:, t] * A)[:, :, None, None]
        state = decay * state + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, None, None, :]
        ys.append((state * C[:, t, None, None, :]).sum(-1))
    return torch.stack(ys, 1) + D[:, None] * x


class Mamba2Block(nn.Module):
    """Parameters norm, in_proj, conv, dt_bias, A_log, D, out_norm, out_proj."""

    def __init__(self, n_embd, d_state=16, d_conv=4, expand=2, headdim=32, A_min=1.0, A_max=16.0, dt_min=1e-3,
                 dt_max=1e-1, depth=1, norm_eps=1e-5):
        super().__init__()
        di, n = expand * n_embd, d_state
        if headdim <= 0 or di % headdim:
            raise ValueError(f"mamba2: headdim ({headdim}) must divide expand * n_embd ({di})")
        heads = di // headdim
        self.d_inner, self.d_state, self.heads, self.headdim = di, n, heads, headdim
        self.norm = RMSNorm(n_embd, norm_eps)
        self.in_proj = nn.Linear(n_embd, 2 * di + 2 * n + heads, bias=False)
        self.conv = CausalConv1d(di + 2 * n, d_conv)
        self.dt_bias = nn.Parameter(inverse_softplus_dt(heads, dt_min, dt_max))
        self.A_log = nn.Parameter(torch.log(torch.empty(heads).uniform_(A_min, A_max)))
        self.D = nn.Parameter(torch.ones(heads))
        self.out_norm = RMSNorm(di, norm_eps)
        self.out_proj = nn.Linear(di, n_embd, bias=False)
        with torch.no_grad():
            self.out_proj.weight.div_(math.sqrt(depth))

    def forward(self, h):  # [B, S, D] -> [B, S, D]
        di, n = self.d_inner, self.d_state
        z, xbc, dt = self.in_proj(self.norm(h)).split([di, di + 2 * n, self.heads], -1)
        x, B, C = F.silu(self.conv(xbc)).split([di, n, n], -1)
        dt = F.softplus(dt + self.dt_bias)
        y = ssd(x.unflatten(-1, (self.heads, self.headdim)), dt, -torch.exp(self.A_log), B, C, self.D)
        return h + self.out_proj(self.out_norm(y.flatten(-2) * F.silu(z)))


def build(params, n_embd, depth, index):
    """The `mamba2` block from its resolved pipeline parameters (`scan` and `chunk` only pick
    how the C++ computes the same recurrence)."""
    return Wrapped(Mamba2Block(n_embd, int(params.get("d_state", 16)), int(params.get("d_conv", 4)),
                               int(params.get("expand", 2)), int(params.get("headdim", 32)),
                               float(params.get("A_min", 1.0)), float(params.get("A_max", 16.0)),
                               float(params.get("dt_min", 1e-3)), float(params.get("dt_max", 1e-1)), depth,
                               float(params.get("norm_eps", 1e-5))),
                   wants_positions=False)
