"""Pure-Python reference twins of the C++ kernels.

Each twin has the same name and signature as its kernel and follows the thesis or
the canonical implementation (disentanglement_lib) literally; tests check parity
and benchmarks report the speed ratio.
"""
