"""Addresses of the exact native routines numpy itself calls, so compiled code can call them too.

Bit-identical results need the same arithmetic in the same order. For matrix products and dot
products numpy calls its bundled OpenBLAS (`cblas_dgemm`, `cblas_dgemv`, `cblas_ddot`); for
transcendental functions it calls its own (often SIMD) ufunc inner loops, which differ from the C
library's `tanh`/`exp` in about a quarter of the last bits. Python's `x ** y` on floats is the C
library's `pow` (Numba would use repeated multiplication or a square root instead). This module
finds both kinds of function pointer, so the kernels in `mlp.py` and `prims.py` call exactly what
numpy calls. Nothing here imports Numba.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

# Order of the pointers handed to the kernels (the `fp` array).
NAMES = ("dgemm", "dgemv", "ddot", "tanh", "exp", "log1p", "expm1", "log", "power", "pow")

# numpy's PyPI wheels bundle OpenBLAS with 64-bit integers and a `scipy_` prefix.
_BLAS_SYMBOLS = {"dgemm": "scipy_cblas_dgemm64_", "dgemv": "scipy_cblas_dgemv64_",
                 "ddot": "scipy_cblas_ddot64_"}


def _blas_library() -> ctypes.CDLL:
    """The OpenBLAS that numpy's wheel loaded (in numpy.libs beside the package)."""
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    found = sorted(glob.glob(os.path.join(libs, "libscipy_openblas64_*")))
    if not found:
        raise OSError(f"no bundled scipy-openblas64 in {libs} (numpy not installed from a PyPI wheel?)")
    return ctypes.CDLL(found[0])


def _ufunc_loop(ufunc: np.ufunc) -> int:
    """The float64 inner loop of `ufunc`, read from the public PyUFuncObject layout (ufuncobject.h):
    PyObject_HEAD; int nin, nout, nargs, identity; functions*; data*; int ntypes, reserved; name*; types*.
    """
    base = id(ufunc)
    nargs = ctypes.c_int.from_address(base + 24).value
    functions = ctypes.c_void_p.from_address(base + 32).value
    ntypes = ctypes.c_int.from_address(base + 48).value
    name = ctypes.c_char_p.from_address(base + 56).value
    types = ctypes.c_void_p.from_address(base + 64).value
    if name != ufunc.__name__.encode() or nargs != ufunc.nargs or ntypes != ufunc.ntypes:
        raise OSError(f"unexpected PyUFuncObject layout for {ufunc.__name__}")
    assert types is not None  # c_void_p.value is None for NULL; a ufunc with loops has its type table
    codes = (ctypes.c_char * (ntypes * nargs)).from_address(types).raw
    double = np.dtype(np.float64).num
    for i in range(ntypes):
        if all(c == double for c in codes[i * nargs:(i + 1) * nargs]):
            assert functions is not None  # as types: not NULL once the ufunc has loops
            ptr = ctypes.c_void_p.from_address(functions + 8 * i).value
            if ptr:
                return ptr
    raise OSError(f"no float64 loop found for {ufunc.__name__}")


def pointers() -> np.ndarray:
    """int64 array of function addresses in the order of NAMES; OSError when one is missing."""
    lib = _blas_library()
    out = []
    for name in NAMES:
        if name == "pow":  # the C library's pow, which Python's float ** calls
            out.append(ctypes.cast(ctypes.CDLL(None).pow, ctypes.c_void_p).value)
        elif name in _BLAS_SYMBOLS:
            out.append(ctypes.cast(getattr(lib, _BLAS_SYMBOLS[name]), ctypes.c_void_p).value)
        else:
            out.append(_ufunc_loop(getattr(np, name)))
    return np.array(out, dtype=np.int64)
