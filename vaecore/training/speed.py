"""Memory-format policy of the training loop (benchmarks/README.md, "Conv training on CPU").

On the CPU, the conv architecture trains in the channels-last memory format (NHWC): oneDNN's
convolutions and transposed convolutions of disentanglement_lib's 64 × 64 net run faster on it
than on the default NCHW, measured side by side in ``benchmarks/bench_training.py``. The values
computed are the same functions of the same parameters (rounding may differ in the last bits); a
run stays bit-exact under resume because the format is applied the same way on every start.
Set :data:`CONV_CHANNELS_LAST` to False to train in NCHW (the benchmark's baseline).
"""

from __future__ import annotations

import torch

__all__ = ["CONV_CHANNELS_LAST", "prepare_model"]

#: train conv models on the CPU in the channels-last memory format
CONV_CHANNELS_LAST = True


def prepare_model(model: torch.nn.Module, architecture: str, device: torch.device) -> torch.nn.Module:
    """``model`` in the memory format it trains fastest in (channels-last for "conv" on the CPU)."""
    if CONV_CHANNELS_LAST and architecture == "conv" and device.type == "cpu":
        return model.to(memory_format=torch.channels_last)
    return model
