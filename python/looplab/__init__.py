"""looplab's models in PyTorch, for notebooks: the trained weights of a run, exported by
`looplab export RUN_DIR`, in modules written from docs/model.md.

    import looplab
    model = looplab.load("runs/tiny")        # RUN_DIR (its export/model.pt) or FILE.pt
    xs, ys = looplab.prompts("runs/tiny")    # the evaluation prompts of eval.csv
    pred = model(xs, ys)                     # [N, n] after the trained b iterations
    pred8 = model(xs, ys, 8)                 # after 8 iterations
    errors = looplab.evaluate(model)         # {iterations: err_mean per examples}, as eval.csv

Blocks: gpt, lr_looped, mamba, mamba2. An out-of-tree block's weights are in
`looplab.load_state(path).state_dict`; `load` raises UnknownBlock for it."""

from .block import Block, CausalConv1d, RMSNorm, Wrapped
from .blocks import UnknownBlock, build_block, build_blocks
from .exported import Export, build_model, evaluate, load, load_state, prompts
from .gpt import GptBlock
from .lr_looped import LrInjection, LrLooped
from .mamba import MambaBlock, selective_scan
from .mamba2 import Mamba2Block, ssd
from .model import LoopedModel, tokens

__all__ = ["Block", "CausalConv1d", "Export", "GptBlock", "LoopedModel", "LrInjection", "LrLooped", "Mamba2Block",
           "MambaBlock", "RMSNorm", "UnknownBlock", "Wrapped", "build_block", "build_blocks", "build_model", "evaluate",
           "load", "load_state", "prompts", "selective_scan", "ssd", "tokens"]
