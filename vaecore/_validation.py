"""Input validation shared by every public function.

Messages follow ``"<func>: <arg> must be <expectation>; got <actual>"``.
``TypeError`` for a wrong type or dtype, ``ValueError`` for a wrong shape or value.
Everything here runs before any C++ call, allocation or file write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def to_numpy(func: str, name: str, x: Any) -> np.ndarray:
    """Convert numpy arrays, torch tensors and nested sequences to a numpy array."""
    if isinstance(x, np.ndarray):
        return x
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{func}: {name} must be an array (numpy or torch); got {type(x).__name__}")
    try:
        return np.asarray(x)
    except Exception as exc:
        raise TypeError(
            f"{func}: {name} must be an array (numpy or torch); got {type(x).__name__}"
        ) from exc


def check_array(
    func: str,
    name: str,
    x: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = np.float64,
    finite: bool = True,
    min_rows: int = 0,
    integer: bool = False,
) -> np.ndarray:
    """Validate ``x`` and return it as a C-contiguous array of ``dtype``.

    Parameters
    ----------
    func, name
        Function and argument names used in error messages.
    ndim
        Allowed number(s) of dimensions.
    dtype
        Target dtype (numeric input is converted; bool, object and strings are rejected).
    finite
        Reject NaN and inf, naming the first offending row.
    min_rows
        Minimum length of the first axis.
    integer
        Require integer-valued input (integer dtype, or floats with integral values).
    """
    arr = to_numpy(func, name, x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: {name} must have a numeric dtype; got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise TypeError(f"{func}: {name} must have a numeric (not boolean) dtype; got dtype bool")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(
                f"{func}: {name} must have {want} dimensions; got shape {tuple(arr.shape)}"
            )
    if arr.ndim >= 1 and arr.shape[0] < min_rows:
        raise ValueError(
            f"{func}: {name} must have at least {min_rows} rows; got shape {tuple(arr.shape)}"
        )
    if finite and arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = f"row {int(bad[0])}" if arr.ndim >= 1 else "the value"
        raise ValueError(
            f"{func}: {name} must be finite; got NaN or inf at {where} (index {tuple(int(b) for b in bad)})"
        )
    if integer and arr.dtype.kind == "f" and arr.size and not np.all(arr == np.round(arr)):
        raise ValueError(f"{func}: {name} must hold integer class labels; got non-integer values")
    return np.ascontiguousarray(arr, dtype=dtype)


def check_option(func: str, name: str, value: Any, valid: Sequence[Any]) -> Any:
    """Reject a string (or other) option that is not one of ``valid``, listing them."""
    if value not in valid:
        raise ValueError(f"{func}: {name} must be one of {tuple(valid)}; got {value!r}")
    return value


def check_int(func: str, name: str, value: Any, *, minimum: int | None = None) -> int:
    """Validate an integer argument (bools rejected) with an optional lower bound."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be an int; got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}; got {value}")
    return int(value)


def check_float(
    func: str, name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> float:
    """Validate a finite real argument with an optional (strict) lower bound."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: {name} must be a number; got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{func}: {name} must be finite; got {value!r}")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        op = ">" if strict else ">="
        raise ValueError(f"{func}: {name} must be {op} {minimum}; got {value!r}")
    return v
