"""Subcommands of the ``vaecore`` CLI, one module each (see :mod:`vaecore.cli`)."""
