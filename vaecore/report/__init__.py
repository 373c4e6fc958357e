"""Reports: tables beside the thesis's numbers, figures, traversals (SPEC §6)."""

from vaecore.report.tables import (
    MARK,
    Cell,
    Table,
    build_tables,
    layouts_from_store_dir,
    record_layouts,
    write_tables,
)
from vaecore.report.thesis import format_key, thesis_value, thesis_values

__all__ = [
    "MARK",
    "Cell",
    "Table",
    "build_tables",
    "format_key",
    "layouts_from_store_dir",
    "record_layouts",
    "thesis_value",
    "thesis_values",
    "write_tables",
]
