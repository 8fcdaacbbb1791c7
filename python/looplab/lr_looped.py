"""The `lr_looped` block (docs/model.md#lr-looped-injection; plugins/blocks/lr_looped/): any
inner block, with the iteration's input Y + lr * E + P for one learned scalar lr."""

import torch
from torch import nn

from .block import Block


class LrInjection(nn.Module):
    """y + lr * e + p; parameter `lr` (0-dim)."""

    def __init__(self, lr_init=1.0, trainable=True):
        super().__init__()
        self.lr = nn.Parameter(torch.tensor(float(lr_init)), requires_grad=trainable)

    def forward(self, y, e, p):
        h = y + self.lr * e
        return h if p is None else h + p  # P is not scaled


class LrLooped(Block):
    """`injection.lr` and the inner block's weights under `inner.`."""

    def __init__(self, inner, lr_init=1.0, trainable=True):
        super().__init__()
        self.injection = LrInjection(lr_init, trainable)
        self.inner = inner
        self.wants_positions = inner.wants_positions

    def inject(self, y, e, p):
        return self.injection(y, e, p)

    def forward(self, h):
        return self.inner(h)


def build(params, n_embd, depth, index, build_block):
    """The `lr_looped` block; `build_block` builds its `inner` table."""
    if index != 0:
        raise ValueError(f"lr_looped must be the first block of an iteration (it is block {index})")
    inner = params.get("inner", {"type": "gpt"})
    if isinstance(inner, str):
        inner = {"type": inner}
    return LrLooped(build_block(inner, n_embd, depth, index), float(params.get("lr_init", 1.0)),
                    bool(params.get("trainable", True)))
