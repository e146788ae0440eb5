"""Compiled building blocks that repeat numpy's arithmetic exactly (imports Numba).

Each helper mirrors one numpy operation the reference path uses, in numpy's own order:
- `matmul` ports the dispatch of numpy's float64 matmul loop (gemm, gemv, dot or a plain loop,
  chosen from the shapes and strides) and calls the same OpenBLAS routines with the same arguments;
- `ufunc1` / `power_scalar` call numpy's float64 ufunc inner loops through their addresses;
- `pairwise` is numpy's pairwise summation (`x.sum()` is `0.0 + pairwise(x)`), `reduce_rows` is
  `np.add.reduce(z, axis=0)`, `segment_sq_sum` is `np.add.reduceat(v * v, starts)` for one segment.
Arrays are flat float64 buffers addressed as (array, element offset); matrices are C-ordered unless
a stride says otherwise. Strides below are in elements. Everything compiles with
error_model="numpy": IEEE results (inf, nan) where Python would raise, and loops free of those
checks vectorise. Callers pass int64 variables, not literal constants: Numba compiles a separate
copy of a function for each literal argument value.
"""
from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

F_DGEMM, F_DGEMV, F_DDOT, F_TANH, F_EXP, F_LOG1P, F_EXPM1, F_LOG, F_POWER, F_CPOW = range(10)
ROW_MAJOR, COL_MAJOR, NO_TRANS, TRANS = 101, 102, 111, 112

_I8P = ir.IntType(8).as_pointer()
_I32, _I64, _F64 = ir.IntType(32), ir.IntType(64), ir.DoubleType()


# ----------------------------------------------------------------------------- calls by address
# The addresses arrive as int64 arguments (not baked-in constants), so the compiled code can be
# cached on disk and reused by a process whose libraries are loaded elsewhere.
@intrinsic
def _call_loop(typingctx, fptr, args, dims, steps):
    """numpy inner loop: void f(char **args, npy_intp *dims, npy_intp *steps, void *data)."""
    sig = types.void(types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, ll):
        fnty = ir.FunctionType(ir.VoidType(), [_I8P] * 4)
        fn = builder.inttoptr(ll[0], fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(a, _I8P) for a in ll[1:]] + [ir.Constant(_I8P, None)])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _call_dgemm(typingctx, fptr, order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """cblas_dgemm (ILP64): order, transA, transB are C ints, sizes 64-bit."""
    i, f = types.int64, types.float64
    sig = types.void(i, i, i, i, i, i, i, f, i, i, i, i, f, i, i)

    def codegen(context, builder, signature, ll):
        fnty = ir.FunctionType(ir.VoidType(), [_I32, _I32, _I32, _I64, _I64, _I64, _F64, _I8P, _I64,
                                               _I8P, _I64, _F64, _I8P, _I64])
        fn = builder.inttoptr(ll[0], fnty.as_pointer())
        t = [builder.trunc(v, _I32) for v in ll[1:4]]
        builder.call(fn, t + [ll[4], ll[5], ll[6], ll[7], builder.inttoptr(ll[8], _I8P), ll[9],
                              builder.inttoptr(ll[10], _I8P), ll[11], ll[12], builder.inttoptr(ll[13], _I8P),
                              ll[14]])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _call_dgemv(typingctx, fptr, order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy):
    """cblas_dgemv (ILP64)."""
    i, f = types.int64, types.float64
    sig = types.void(i, i, i, i, i, f, i, i, i, i, f, i, i)

    def codegen(context, builder, signature, ll):
        fnty = ir.FunctionType(ir.VoidType(), [_I32, _I32, _I64, _I64, _F64, _I8P, _I64, _I8P, _I64,
                                               _F64, _I8P, _I64])
        fn = builder.inttoptr(ll[0], fnty.as_pointer())
        builder.call(fn, [builder.trunc(ll[1], _I32), builder.trunc(ll[2], _I32), ll[3], ll[4], ll[5],
                          builder.inttoptr(ll[6], _I8P), ll[7], builder.inttoptr(ll[8], _I8P), ll[9],
                          ll[10], builder.inttoptr(ll[11], _I8P), ll[12]])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _call_ddot(typingctx, fptr, n, x, incx, y, incy):
    """cblas_ddot (ILP64) -> double."""
    i = types.int64
    sig = types.float64(i, i, i, i, i, i)

    def codegen(context, builder, signature, ll):
        fnty = ir.FunctionType(_F64, [_I64, _I8P, _I64, _I8P, _I64])
        fn = builder.inttoptr(ll[0], fnty.as_pointer())
        return builder.call(fn, [ll[1], builder.inttoptr(ll[2], _I8P), ll[3], builder.inttoptr(ll[4], _I8P),
                                 ll[5]])
    return sig, codegen


@intrinsic
def _call_pow(typingctx, fptr, x, y):
    """double pow(double, double) of the C library."""
    sig = types.float64(types.int64, types.float64, types.float64)

    def codegen(context, builder, signature, ll):
        fnty = ir.FunctionType(_F64, [_F64, _F64])
        fn = builder.inttoptr(ll[0], fnty.as_pointer())
        return builder.call(fn, [ll[1], ll[2]])
    return sig, codegen


@nb.njit(cache=True, error_model="numpy")
def cpow(fp, x, y):
    """x ** y exactly as Python computes it for floats (C pow)."""
    return _call_pow(fp[F_CPOW], x, float(y))


# ----------------------------------------------------------------------------- ufunc loops
@nb.njit(cache=True, error_model="numpy")
def ufunc1(fptr, x, xo, y, yo, n, sc):
    """y[yo:yo+n] = numpy_ufunc(x[xo:xo+n]) with numpy's own float64 loop at address fptr."""
    if n <= 0:
        return
    sc[0] = x.ctypes.data + 8 * xo
    sc[1] = y.ctypes.data + 8 * yo
    sc[3] = n
    sc[4] = 8
    sc[5] = 8
    base = sc.ctypes.data
    _call_loop(fptr, base, base + 24, base + 32)


@nb.njit(cache=True, error_model="numpy")
def power_scalar(fp, x, xo, s, so, y, yo, n, sc):
    """y = np.power(x, s[so]) as `x ** k` calls it: the exponent broadcast with stride 0."""
    if n <= 0:
        return
    sc[0] = x.ctypes.data + 8 * xo
    sc[1] = s.ctypes.data + 8 * so
    sc[2] = y.ctypes.data + 8 * yo
    sc[3] = n
    sc[4] = 8
    sc[5] = 0
    sc[6] = 8
    base = sc.ctypes.data
    _call_loop(fp[F_POWER], base, base + 24, base + 32)


# ----------------------------------------------------------------------------- BLAS as numpy calls it
@nb.njit(cache=True, error_model="numpy")
def dot(fp, x, xo, xs, y, yo, ys, n):
    """np.dot of two float64 vectors (DOUBLE_dot): 0.0 + cblas_ddot."""
    s = 0.0
    s += _call_ddot(fp[F_DDOT], n, x.ctypes.data + 8 * xo, xs, y.ctypes.data + 8 * yo, ys)
    return s


@nb.njit(cache=True, error_model="numpy")
def _blasable(s1, s2, d1, d2):
    """numpy's is_blasable2d with element strides: unit inner stride, outer stride >= inner size."""
    return s2 == 1 and s1 >= d2


@nb.njit(cache=True, error_model="numpy")
def _gemv(fp, A, ao, is1_m, is1_n, X, xo, is2_n, Y, yo, os_m, m, n):
    if _blasable(is1_m, is1_n, m, n):
        order, lda = COL_MAJOR, is1_m
    else:
        order, lda = ROW_MAJOR, is1_n
    _call_dgemv(fp[F_DGEMV], order, TRANS, n, m, 1.0, A.ctypes.data + 8 * ao, lda,
                X.ctypes.data + 8 * xo, is2_n, 0.0, Y.ctypes.data + 8 * yo, os_m)


@nb.njit(cache=True, error_model="numpy")
def _noblas(A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, os_p, dm, dn, dp):
    for m in range(dm):
        for p in range(dp):
            acc = 0.0
            for n in range(dn):
                acc += A[ao + m * is1_m + n * is1_n] * B[bo + n * is2_n + p * is2_p]
            C[co + m * os_m + p * os_p] = acc


@nb.njit(cache=True, error_model="numpy")
def _gemm(fp, A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, m, n, p):
    if _blasable(is1_m, is1_n, m, n):
        t1, lda = NO_TRANS, is1_m
    else:
        t1, lda = TRANS, is1_n
    if _blasable(is2_n, is2_p, n, p):
        t2, ldb = NO_TRANS, is2_n
    else:
        t2, ldb = TRANS, is2_p
    _call_dgemm(fp[F_DGEMM], ROW_MAJOR, t1, t2, m, p, n, 1.0, A.ctypes.data + 8 * ao, lda,
                B.ctypes.data + 8 * bo, ldb, 0.0, C.ctypes.data + 8 * co, os_m)


@nb.njit(cache=True, error_model="numpy")
def matmul(fp, A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, os_p, dm, dn, dp):
    """C = A @ B for (dm, dn) @ (dn, dp), as numpy's DOUBLE_matmul chooses (blasable operands only)."""
    if dm == 0 or dn == 0 or dp == 0:
        _noblas(A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, os_p, dm, dn, dp)
        return
    if dm == 1 or dn == 1 or dp == 1:
        i1 = _blasable(is1_m, is1_n, dm, dn) or _blasable(is1_n, is1_m, dn, dm)
        i2 = _blasable(is2_n, is2_p, dn, dp) or _blasable(is2_p, is2_n, dp, dn)
        if dm == 1 and dp == 1:
            C[co] = dot(fp, A, ao, is1_n, B, bo, is2_n, dn)
        elif dn == 1 and (dp == 1 or dm == 1):
            _noblas(A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, os_p, dm, dn, dp)
        elif dm == 1 and i2 and is1_n == 1:
            _gemv(fp, B, bo, is2_p, is2_n, A, ao, is1_n, C, co, os_p, dp, dn)
        elif dp == 1 and i1 and is2_n == 1:
            _gemv(fp, A, ao, is1_m, is1_n, B, bo, is2_n, C, co, os_m, dm, dn)
        else:
            _noblas(A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, os_p, dm, dn, dp)
        return
    if os_m < os_p:   # transposed output: matmul(a, b, o) == matmul(b.T, a.T, o.T)
        _gemm(fp, B, bo, is2_p, is2_n, A, ao, is1_n, is1_m, C, co, os_p, dp, dn, dm)
    else:
        _gemm(fp, A, ao, is1_m, is1_n, B, bo, is2_n, is2_p, C, co, os_m, dm, dn, dp)


# ----------------------------------------------------------------------------- reductions
@nb.njit(cache=True, error_model="numpy")
def _leaf(a, o, n, sq):
    """numpy's pairwise_sum for n <= 128 (of a*a when sq): 8 accumulators, -0.0 start below 8."""
    a = a[o:o + n]  # a slice, so indices are plain counters
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[i] * a[i] if sq else a[i]
        return res
    if sq:
        r0, r1, r2, r3 = a[0] * a[0], a[1] * a[1], a[2] * a[2], a[3] * a[3]
        r4, r5, r6, r7 = a[4] * a[4], a[5] * a[5], a[6] * a[6], a[7] * a[7]
    else:
        r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    stop = n - n % 8
    while i < stop:
        if sq:
            r0 += a[i] * a[i]
            r1 += a[i + 1] * a[i + 1]
            r2 += a[i + 2] * a[i + 2]
            r3 += a[i + 3] * a[i + 3]
            r4 += a[i + 4] * a[i + 4]
            r5 += a[i + 5] * a[i + 5]
            r6 += a[i + 6] * a[i + 6]
            r7 += a[i + 7] * a[i + 7]
        else:
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i] * a[i] if sq else a[i]
        i += 1
    return res


@nb.njit(cache=True, error_model="numpy")
def _pairwise(a, o, n, sq):
    """numpy's pairwise summation of a[o:o+n] (of its squares when sq).

    Above 128 numpy recurses: sum(first n2) + sum(rest), n2 = n/2 rounded down to a multiple of 8.
    The same tree is walked here with an explicit stack (Numba's disk cache cannot reload
    recursive functions)."""
    if n <= 128:
        return _leaf(a, o, n, sq)
    so = np.empty(64, dtype=np.int64)   # frames: offset, length, phase
    sn = np.empty(64, dtype=np.int64)
    ph = np.empty(64, dtype=np.int64)
    vals = np.empty(64)
    top, vtop = 0, 0
    so[0], sn[0], ph[0] = o, n, 0
    while top >= 0:
        fo, fn = so[top], sn[top]
        if fn <= 128:
            vals[vtop] = _leaf(a, fo, fn, sq)
            vtop += 1
            top -= 1
            continue
        n2 = fn // 2
        n2 -= n2 % 8
        if ph[top] == 0:                 # left half first
            ph[top] = 1
            top += 1
            so[top], sn[top], ph[top] = fo, n2, 0
        elif ph[top] == 1:               # then the right half
            ph[top] = 2
            top += 1
            so[top], sn[top], ph[top] = fo + n2, fn - n2, 0
        else:                            # both done: left + right
            vtop -= 1
            vals[vtop - 1] = vals[vtop - 1] + vals[vtop]
            top -= 1
    return vals[0]


@nb.njit(cache=True, error_model="numpy")
def pairwise(a, o, n):
    """numpy's pairwise sum of a[o:o+n] (8 accumulators, blocks of 128, -0.0 start below 8)."""
    return _pairwise(a, o, n, False)


@nb.njit(cache=True, error_model="numpy")
def total(a, o, n):
    """float(a[o:o+n].sum()): the add identity 0.0 plus the pairwise sum."""
    s = 0.0
    s += pairwise(a, o, n)
    return s


@nb.njit(cache=True, error_model="numpy")
def reduce_rows(z, zo, m, w, out, oo):
    """np.add.reduce(z, axis=0) for z (m, w) C-ordered: a pairwise sum when w == 1 (the iterator
    sees one strided vector), otherwise rows added one after another onto 0.0."""
    if w == 1:
        out[oo] = total(z, zo, m)
        return
    ov = out[oo:oo + w]
    for j in range(w):
        ov[j] = 0.0
    for r in range(m):
        row = z[zo + r * w:zo + (r + 1) * w]
        for j in range(w):
            ov[j] = ov[j] + row[j]


@nb.njit(cache=True, error_model="numpy")
def pairwise_sq(a, o, n):
    """pairwise(a * a, o, n) without storing the squares (the same products, the same order)."""
    return _pairwise(a, o, n, True)


@nb.njit(cache=True, error_model="numpy")
def segment_sq_sum(v, start, n):
    """np.add.reduceat(v * v, starts) for one segment: the first square plus the pairwise sum of the rest."""
    first = v[start] * v[start]
    if n == 1:
        return first
    return first + pairwise_sq(v, start + 1, n - 1)


@nb.njit(cache=True, error_model="numpy")
def maximum(a, b):
    """np.maximum for float64: NaN propagates."""
    if a >= b or a != a:
        return a
    return b


@nb.njit(cache=True, error_model="numpy")
def minimum(a, b):
    """np.minimum for float64: NaN propagates."""
    if a <= b or a != a:
        return a
    return b


@nb.njit(cache=True, error_model="numpy")
def clip(x, lo, hi):
    """np.clip for float64 (NaN stays NaN)."""
    if x != x:
        return x
    v = x if x > lo else lo
    return v if v < hi else hi


@nb.njit(cache=True, error_model="numpy")
def sign(x):
    """np.sign for float64."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return x
