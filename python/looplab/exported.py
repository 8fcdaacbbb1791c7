"""Reading `looplab export`'s file (docs/model.md#exported-weights) and recomputing eval.csv."""

import os
import tomllib
from dataclasses import dataclass

import torch

from .blocks import build_blocks
from .model import LoopedModel

#: The export format versions this package reads.
FORMAT_VERSIONS = (1,)


@dataclass
class Export:
    """The contents of an exported file."""

    path: str
    state_dict: dict  #: parameter name -> tensor (CPU)
    meta: dict  #: looplab_version, step, n_dims, n_embd, loops, blocks, eval_iterations, ...
    pipeline: str  #: the run's resolved.toml
    xs: torch.Tensor  #: evaluation prompts [N, n, d]
    ys: torch.Tensor  #: their labels [N, n]
    #: With `looplab export --predictions`: looplab's own predictions on them,
    #: {iterations: [N, n]} at every evaluated iteration count; else None.
    predictions: dict | None = None

    @property
    def config(self):
        """The pipeline as a dict (every default written out)."""
        return tomllib.loads(self.pipeline)


def export_path(path):
    """`path` itself for a file; RUN_DIR/export/model.pt for a run directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        file = os.path.join(path, "export", "model.pt")
        if not os.path.exists(file):
            raise FileNotFoundError(f"{path} has no export ({file}): run `looplab export {path}` first")
        return file
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or run directory")
    return path


def load_state(path):
    """The exported file of a run directory (or the file itself) as an Export, any block types."""
    file = export_path(path)
    raw = torch.load(file)  # weights_only: only tensors, strings, numbers, lists and dicts
    if not isinstance(raw, dict) or raw.get("format") != "looplab-export":
        raise ValueError(f"{file} is not a looplab export")
    if raw.get("format_version") not in FORMAT_VERSIONS:
        raise ValueError(f"{file} has export format {raw.get('format_version')}; this package reads "
                         f"{', '.join(map(str, FORMAT_VERSIONS))} (update python/looplab)")
    prompts = raw["prompts"]
    predictions = None
    if "predictions" in prompts:
        predictions = dict(zip((int(i) for i in raw["meta"]["eval_iterations"]), prompts["predictions"].unbind(0)))
    return Export(file, dict(raw["state_dict"]), dict(raw["meta"]), raw["pipeline"], prompts["xs"], prompts["ys"],
                  predictions)


def build_model(export):
    """An untrained LoopedModel shaped as the export's pipeline says (raises UnknownBlock for a
    block type without a Python module)."""
    meta, cfg = export.meta, export.config
    blocks = build_blocks(cfg["model"]["blocks"], int(meta["n_embd"]))
    return LoopedModel(int(meta["n_dims"]), int(meta["n_embd"]), int(meta["n_points"]), blocks,
                       positions=bool(meta["positions"]), loops=int(meta["loops"]),
                       eval_iterations=[int(i) for i in meta["eval_iterations"]])


def load(path):
    """The trained model of a run directory (its export) or of an exported file, in eval mode.
    `model(xs, ys)` predicts after the trained b iterations, `model(xs, ys, k)` after k."""
    export = load_state(path)
    model = build_model(export)
    model.load_state_dict(export.state_dict, strict=True)
    model.export = export
    return model.eval()


def prompts(path):
    """The evaluation prompts (xs [N, n, d], ys [N, n]) eval.csv was computed on."""
    export = load_state(path)
    return export.xs, export.ys


@torch.no_grad()
def evaluate(model, export=None, batch_size=256):
    """eval.csv's model rows recomputed: {iterations: err_mean [n]} (float64) at every evaluated
    iteration count, err_mean(i) = mean over prompts of (y_hat_i - y_i)^2 / E[y^2]."""
    export = export or model.export
    its = [int(i) for i in export.meta["eval_iterations"]]
    chunks = [model.run(export.xs[s:s + batch_size], export.ys[s:s + batch_size], its[-1], its)
              for s in range(0, export.xs.shape[0], batch_size)]
    ys = export.ys.double()
    norm = float(export.meta["y_second_moment"])
    return {k: ((torch.cat([c[j] for c in chunks]).double() - ys).square() / norm).mean(0) for j, k in enumerate(its)}
