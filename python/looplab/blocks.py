"""The bundled blocks by pipeline type, and building `[[model.blocks]]` from a pipeline."""

from . import gpt, lr_looped, mamba, mamba2


class UnknownBlock(ValueError):
    """A block type with no Python module here (an out-of-tree plugin)."""


def build_block(table, n_embd, depth, index):
    """One block from its pipeline table (`type` plus parameters) placed at `index` of L = `depth`."""
    kind = table.get("type")
    if kind == "lr_looped":
        return lr_looped.build(table, n_embd, depth, index, build_block)
    if kind not in BUILDERS:
        raise UnknownBlock(f"cannot build block {kind!r}: looplab's Python package has modules for "
                           f"{', '.join(sorted([*BUILDERS, 'lr_looped']))}; the exported weights are still in "
                           "looplab.load_state(path).state_dict")
    return BUILDERS[kind](table, n_embd, depth, index)


def build_blocks(tables, n_embd):
    """Every block of one iteration, `repeat` expanded, in order (blocks.0, blocks.1, ...)."""
    expanded = [t for t in tables for _ in range(int(t.get("repeat", 1)))]
    return [build_block(t, n_embd, len(expanded), i) for i, t in enumerate(expanded)]


BUILDERS = {"gpt": gpt.build, "mamba": mamba.build, "mamba2": mamba2.build}
