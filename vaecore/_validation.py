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
    """Convert numpy arrays, torch tensors and nested sequences to a numpy array.

    Torch floating dtypes without a numpy counterpart (bfloat16, the float8 types) are
    widened to float32 first, which represents every one of their values exactly; a
    tensor numpy cannot hold at all (sparse, meta, quantized) raises ``TypeError``.
    """
    if isinstance(x, np.ndarray):
        return x
    try:
        import torch

        if isinstance(x, torch.Tensor):
            t = x.detach()
            if t.is_floating_point() and t.dtype not in (torch.float16, torch.float32, torch.float64):
                t = t.to(torch.float32)
            try:
                return t.cpu().numpy()
            except (TypeError, RuntimeError) as exc:
                raise TypeError(
                    f"{func}: {name} must be a dense numeric array (numpy or torch); got a torch "
                    f"tensor of dtype {x.dtype} and layout {x.layout} that numpy cannot hold"
                ) from exc
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


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    idx = np.argwhere(bad)[0]
    where = f"row {int(idx[0])}" if arr.ndim >= 1 else "the value"
    return f"{where} (index {tuple(int(b) for b in idx)})"


def check_finite(func: str, name: str, arr: np.ndarray, *, what: str = "") -> np.ndarray:
    """Raise ``ValueError`` naming the first NaN/inf of a float array; return it unchanged.

    ``what`` says where the value came from (e.g. "after the cast to float32"), for checks
    after a cast or after arithmetic that can overflow.
    """
    if arr.dtype.kind in "fc" and arr.size and not np.isfinite(arr).all():
        suffix = f" {what}" if what else ""
        raise ValueError(
            f"{func}: {name} must be finite; got NaN or inf{suffix} at "
            f"{_first_bad(arr, ~np.isfinite(arr))}"
        )
    return arr


def _check_int_range(func: str, name: str, arr: np.ndarray, target: np.dtype) -> None:
    """Values must fit the integer ``target`` dtype (no wrap-around on the cast)."""
    info = np.iinfo(target)
    if arr.dtype.kind == "f":
        top = 2.0 ** (info.bits - (1 if info.min < 0 else 0))  # exclusive, exact in float64
        bad = (arr < float(info.min)) | (arr >= top)
    else:
        src = np.iinfo(arr.dtype)
        bad = np.zeros(arr.shape, dtype=bool)
        if src.min < info.min:
            bad |= arr < arr.dtype.type(max(info.min, src.min))
        if src.max > info.max:
            bad |= arr > arr.dtype.type(info.max)
    if arr.size and np.any(bad):
        raise ValueError(
            f"{func}: {name} must hold integers in [{info.min}, {info.max}]; got a value outside "
            f"that range at {_first_bad(arr, np.asarray(bad))}"
        )


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
    keep_int: bool = False,
) -> np.ndarray:
    """Validate ``x`` and return it as a C-contiguous array of ``dtype``.

    Parameters
    ----------
    func, name
        Function and argument names used in error messages.
    ndim
        Allowed number(s) of dimensions.
    dtype
        Target dtype (numeric input is converted; bool, complex, object and strings are
        rejected). Finiteness is checked *after* the cast, so a value that overflows the
        target (1e300 -> float32, a float128 beyond float64) is refused; a cast to an integer
        dtype refuses values outside its range instead of wrapping.
    finite
        Reject NaN and inf, naming the first offending row.
    min_rows
        Minimum length of the first axis.
    integer
        Require integer-valued input (integer dtype, or floats with integral values).
    keep_int
        Integer input keeps an exact integer dtype (int64, or uint64 for uint64 input)
        instead of being cast to ``dtype``: class labels beyond 2**53 stay distinct.
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
    if finite:
        check_finite(func, name, arr)
    if integer and arr.dtype.kind == "f" and arr.size and not np.all(arr == np.round(arr)):
        raise ValueError(f"{func}: {name} must hold integer class labels; got non-integer values")
    if keep_int and arr.dtype.kind in "iu":
        target = np.dtype(np.uint64) if arr.dtype == np.uint64 else np.dtype(np.int64)
    else:
        target = np.dtype(dtype)
    if target.kind in "iu" and arr.dtype != target:
        _check_int_range(func, name, arr, target)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=target)
    if finite and out.dtype.kind == "f" and out.size and not np.isfinite(out).all():
        raise ValueError(
            f"{func}: {name} must be finite in {out.dtype} (|x| <= {np.finfo(out.dtype).max:.4g}); "
            f"got a value that overflows the cast from {arr.dtype} at "
            f"{_first_bad(out, ~np.isfinite(out))}"
        )
    return out


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
