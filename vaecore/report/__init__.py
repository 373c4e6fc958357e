"""Reports: tables beside the thesis's numbers, figures, traversals (SPEC §6).

``report(store_path, out_dir)`` builds everything from a results store alone.
"""

from vaecore.report.aggregate import build_tables
from vaecore.report.build import Report, report
from vaecore.report.tables import MARK, Cell, Table, write_tables
from vaecore.report.thesis import format_key, thesis_table, thesis_value, thesis_values

__all__ = [
    "MARK",
    "Cell",
    "Report",
    "Table",
    "build_tables",
    "format_key",
    "report",
    "thesis_table",
    "thesis_value",
    "thesis_values",
    "write_tables",
]
