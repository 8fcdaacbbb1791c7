"""The `gpt` block (docs/model.md#gpt-block; plugins/blocks/gpt/): pre-LN GPT-2,

    a   = h + W_o Attn(LN_1(h)) + b_o
    out = a + W_2 GELU(W_1 LN_2(a) + b_1) + b_2

with causal softmax attention written out (not a fused kernel), so it also checks looplab's."""

import math

import torch
from torch import nn

from .block import Wrapped


def gelu_tanh(u):
    """GELU(u) = u/2 (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))."""
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u.pow(3))))


class GptBlock(nn.Module):
    """The block itself: parameters ln_1, c_attn, attn_proj, ln_2, c_fc, mlp_proj."""

    def __init__(self, n_embd, n_head=4, depth=1, init_std=0.02, ln_eps=1e-5):
        super().__init__()
        if n_head <= 0 or n_embd % n_head:
            raise ValueError(f"gpt: n_head ({n_head}) must divide n_embd ({n_embd})")
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd, eps=ln_eps)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.attn_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd, eps=ln_eps)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.mlp_proj = nn.Linear(4 * n_embd, n_embd)
        with torch.no_grad():
            for layer, std in ((self.c_attn, init_std), (self.c_fc, init_std),
                               (self.attn_proj, init_std / math.sqrt(2.0 * depth)),
                               (self.mlp_proj, init_std / math.sqrt(2.0 * depth))):
                layer.weight.normal_(0.0, std)
                layer.bias.zero_()

    def attention(self, h):
        """Per-head attention weights [B, H, S, S] of LN_1(h) and the values they mix."""
        b, s, d = h.shape
        q, k, v = self.c_attn(self.ln_1(h)).view(b, s, 3, self.n_head, d // self.n_head).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.n_head)
        causal = torch.ones(s, s, dtype=torch.bool, device=h.device).tril()
        return torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1), v

    def forward(self, h):  # [B, S, D] -> [B, S, D]
        b, s, d = h.shape
        weights, v = self.attention(h)
        a = h + self.attn_proj((weights @ v).transpose(1, 2).reshape(b, s, d))
        return a + self.mlp_proj(gelu_tanh(self.c_fc(self.ln_2(a))))


def build(params, n_embd, depth, index):
    """The `gpt` block from its resolved pipeline parameters."""
    return Wrapped(GptBlock(n_embd, int(params.get("n_head", 4)), depth, float(params.get("init_std", 0.02)),
                            float(params.get("ln_eps", 1e-5))))
