"""Optimizer states between S per-seed optimizers and one optimizer over stacked parameters.

Every per-parameter state tensor of the optimizers vaecore offers (Adam's moments, AdaGrad's
sums, SGD's momentum, RMSprop's averages) has the parameter's shape and is updated elementwise,
so the state of the stacked optimizer is the per-seed states stacked along a new first axis;
scalar entries (Adam's ``step``) are equal across seeds that are at the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["split_optimizer_state", "stack_optimizer_state"]


def stack_optimizer_state(optimizers: Sequence[torch.optim.Optimizer], stacked: torch.optim.Optimizer) -> None:
    """Load into ``stacked`` the states of ``optimizers`` (one per seed, same parameter order)."""
    dicts = [o.state_dict() for o in optimizers]
    state: dict[int, dict[str, Any]] = {}
    for idx in dicts[0]["state"]:
        entry: dict[str, Any] = {}
        for key, value in dicts[0]["state"][idx].items():
            values = [d["state"][idx][key] for d in dicts]
            if isinstance(value, torch.Tensor) and value.ndim > 0:
                entry[key] = torch.stack(values)
            else:
                if any(not _equal(v, value) for v in values):
                    raise ValueError(
                        f"train_seeds: optimizer state {key!r} differs between the seeds ({values}); "
                        "they cannot be trained as one batched model"
                    )
                entry[key] = value
        state[idx] = entry
    stacked.load_state_dict({"state": state, "param_groups": stacked.state_dict()["param_groups"]})


def split_optimizer_state(stacked: torch.optim.Optimizer, optimizers: Sequence[torch.optim.Optimizer]) -> None:
    """Load seed s's slice of ``stacked``'s state into ``optimizers[s]`` (inverse of the above)."""
    full = stacked.state_dict()
    for s, opt in enumerate(optimizers):
        state = {
            idx: {
                key: v[s].clone() if isinstance(v, torch.Tensor) and v.ndim > 0 else (v.clone() if isinstance(v, torch.Tensor) else v)
                for key, v in entry.items()
            }
            for idx, entry in full["state"].items()
        }
        opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return bool(torch.equal(torch.as_tensor(a), torch.as_tensor(b)))
    return a == b
