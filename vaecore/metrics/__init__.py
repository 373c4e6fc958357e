"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

from vaecore.metrics.dci import DCIResult, dci
from vaecore.metrics.ds import DSResult, ds
from vaecore.metrics.mig import MIGResult, mig
from vaecore.metrics.sap import SAPResult, sap

__all__: list[str] = ["DCIResult", "DSResult", "MIGResult", "SAPResult", "dci", "ds", "mig", "sap"]
