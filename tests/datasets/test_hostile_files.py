"""Issue 17 (datasets) and issue 11.10 regressions: hostile files and arrays are refused with
messages that name the file, row or argument; one split implementation; no import cycle."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from vaecore import datasets
from vaecore.datasets import base as ds_base
from vaecore.training import ArrayDataset

h5py = pytest.importorskip("h5py")


def _h5(path, labels, n_images=None):
    n = len(labels) if n_images is None else n_images
    with h5py.File(path, "w") as h:
        h["images"] = np.zeros((n, 64, 64, 3), np.uint8)
        h["labels"] = np.asarray(labels, np.float64)


def _grid_labels(idx):
    grid = datasets.load("shapes3d")
    return grid.factor_values_of(grid.index_to_factors(idx))


def test_shapes3d_nan_label_refused_naming_file_and_row(tmp_path):
    labels = _grid_labels([0, 1, 2])
    labels[1, 4] = np.nan
    _h5(tmp_path / "3dshapes.h5", labels)
    with pytest.raises(ValueError, match=r"3dshapes\.h5.*must be finite; got nan in row 1, column 4 \(shape\)"):
        datasets.load("shapes3d", path=tmp_path)


def test_shapes3d_repeated_grid_point_refused(tmp_path):
    _h5(tmp_path / "3dshapes.h5", _grid_labels([5, 7, 5]))
    with pytest.raises(ValueError, match=r"each grid point once; rows 0 and 2"):
        datasets.load("shapes3d", path=tmp_path)


def test_shapes3d_bad_shapes_message_reads_closed_file_safely(tmp_path):
    # the error message used to read images.shape after f.close(): "Invalid dataset identifier"
    _h5(tmp_path / "3dshapes.h5", _grid_labels([0, 1]), n_images=3)
    with pytest.raises(ValueError, match=r"got images \(3, 64, 64, 3\) uint8, labels \(2, 6\)"):
        datasets.load("shapes3d", path=tmp_path)


def test_open_shapes3d_does_not_write_into_the_grid(tmp_path):
    from vaecore.datasets.files import Shapes3DFile, open_shapes3d

    _h5(tmp_path / "3dshapes.h5", _grid_labels([3, 1]))
    grid = datasets.load("shapes3d")
    before = dict(vars(grid))
    opened = open_shapes3d(str(tmp_path), grid)
    try:
        assert isinstance(opened, Shapes3DFile)
        assert vars(grid).keys() == before.keys() and grid.path is None and grid._file is None
        assert opened.path.endswith("3dshapes.h5") and opened.rows[3] == 0 and opened.rows[1] == 1
    finally:
        opened.handle.close()


def test_files_module_does_not_import_shapes3d():
    import vaecore.datasets.files as files

    tree = ast.parse(inspect.getsource(files))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any("shapes3d" in (m or "") for m in imported)


def test_dsprites_repeated_grid_rows_refused(tmp_path):
    lc = np.array([[0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]])
    np.savez(tmp_path / "d.npz", imgs=np.zeros((3, 64, 64), np.uint8), latents_classes=lc)
    with pytest.raises(ValueError, match=r"d\.npz.*each grid point once; rows 0 and 2"):
        datasets.load("dsprites", path=tmp_path / "d.npz")


def test_array_dataset_float32_overflow_refused():
    with pytest.raises(ValueError, match=r"ArrayDataset: observations must be finite in float32.*overflows"):
        ArrayDataset(np.full((4, 3), 1e300))
    with pytest.raises(ValueError, match="observations must be finite; got NaN"):
        ArrayDataset(np.array([[0.0, np.nan]]))


@pytest.mark.parametrize(
    "kinds, match",
    [
        (("continuous",), r"one entry per factor \(2\); got 1"),
        (("continuous", "categorcal"), r"factor_kinds must hold kinds from .*'categorcal' at position 1"),
        ("continuous", "sequence of strings"),
    ],
)
def test_array_dataset_factor_kinds_checked(kinds, match):
    x, f = np.zeros((5, 3)), np.zeros((5, 2))
    with pytest.raises((ValueError, TypeError), match=match):
        ArrayDataset(x, f, factor_kinds=kinds)
    assert ArrayDataset(x, f, factor_kinds=["categorical", "cyclic"]).factor_kinds == ("categorical", "cyclic")


def test_array_dataset_split_is_the_datasets_split():
    ds = ArrayDataset(np.zeros((19, 2)))
    train, eval_, test = ds.split(seed=3)
    assert (len(train), len(eval_), len(test)) == (15, 1, 3)
    for part, want in zip((train, eval_, test), ds_base.split_indices(19, 3)):
        np.testing.assert_array_equal(part, want)
        assert np.all(np.diff(part) > 0)
    grid = datasets.load("synth-lin", n_samples=19) if "synth-lin" in datasets.NAMES else None
    if grid is not None:
        for a, b in zip(grid.split(seed=3), ds.split(seed=3)):
            np.testing.assert_array_equal(a, b)


def test_array_dataset_keeps_huge_integer_factors_and_checks_indices():
    f = np.array([[2**60], [2**60 + 1]], np.int64)
    ds = ArrayDataset(np.zeros((2, 2)), f)
    assert ds.factors_at([1])[0, 0] == 2**60 + 1
    with pytest.raises(ValueError, match=r"arrays.observations_at: indices must be in \[0, 2\); got 2"):
        ds.observations_at([2])
