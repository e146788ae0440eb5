"""2D loss landscapes f(x, y) with exact gradient and Hessian.

On a landscape the "parameters" are the point (x, y) and the loss is f itself. Each landscape keeps
its function, gradient and Hessian side by side so the calculus can be read together:

- ``f(x, y)`` is vectorised numpy (broadcasting arrays), used for contour plots;
- ``grad_fn(x, y) -> (fx, fy)`` and ``hess_fn(x, y) -> (fxx, fxy, fyy)`` take and return plain Python
  floats and use only ``math``: the engine calls them once per step, >100k times a second, where
  numpy's per-call overhead would dominate.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]
TAU = 2.0 * math.pi


@dataclass(frozen=True)
class Landscape:
    """A 2D test function with its derivatives, known critical points and a view for plotting."""

    name: str  # registry key
    title: str
    formula: str  # human-readable unicode
    description: str  # what this surface teaches
    f: Callable  # vectorised f(x, y) on arrays -> array
    grad_fn: Callable  # (x, y) floats -> (fx, fy) floats
    hess_fn: Callable  # (x, y) floats -> (fxx, fxy, fyy) floats
    minima: tuple[Point, ...]  # known minima, global first
    saddle_points: tuple[Point, ...]
    xrange: tuple[float, float]
    yrange: tuple[float, float]
    start: Point  # default start point
    log_color: bool  # colour contours by log(f - fmin + 1): the range of f is huge
    fmin: float  # global minimum, or for unbounded f the minimum over the view range

    def value(self, p: np.ndarray) -> float:
        """f at the point p = (x, y); inf rather than OverflowError far from the view (after a divergence)."""
        with np.errstate(all="ignore"):
            return float(self.f(np.float64(p[0]), np.float64(p[1])))

    def gradient(self, p: np.ndarray) -> np.ndarray:
        """∇f at p, shape (2,), float64; NaN where plain-float maths fails far out (L-BFGS probes
        points after a divergence: x**3 raises OverflowError, cos(inf) ValueError)."""
        try:
            return np.array(self.grad_fn(float(p[0]), float(p[1])), dtype=np.float64)
        except (OverflowError, ValueError):
            return np.full(2, np.nan)

    def hessian(self, p: np.ndarray) -> np.ndarray:
        """Hessian of f at p, shape (2, 2), symmetric, float64; NaN where it cannot be computed."""
        try:
            fxx, fxy, fyy = self.hess_fn(float(p[0]), float(p[1]))
        except (OverflowError, ValueError):
            return np.full((2, 2), np.nan)
        return np.array([[fxx, fxy], [fxy, fyy]], dtype=np.float64)

    def grid(self, nx: int = 200, ny: int = 200, view: tuple[float, float, float, float] | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """xs (nx,), ys (ny,) over `view` (x0, x1, y0, y1; the landscape's view range by default) and
        Z (ny, nx) with Z[j, i] = f(xs[i], ys[j])."""
        x0, x1, y0, y1 = (*self.xrange, *self.yrange) if view is None else view
        xs = np.linspace(x0, x1, nx)
        ys = np.linspace(y0, y1, ny)
        # Broadcasting (1, nx) against (ny, 1) gives the row-major image pyqtgraph expects.
        Z = self.f(xs[None, :], ys[:, None]) + np.zeros((ny, nx))  # constant f still gets a full grid
        return xs, ys, Z.astype(np.float64)


LANDSCAPES: dict[str, Landscape] = {}


def get_landscape(name: str) -> Landscape:
    """The registered landscape called `name`; ValueError naming the choices if there is none."""
    try:
        return LANDSCAPES[name]
    except KeyError:
        raise ValueError(
            f"unknown landscape {name!r}; choose one of: {', '.join(LANDSCAPES)}"
        ) from None


def _newton(grad_fn: Callable, hess_fn: Callable, p: Point, steps: int = 12) -> Point:
    """Polish an approximate critical point with Newton's method on ∇f = 0 (converges quadratically)."""
    x, y = float(p[0]), float(p[1])
    for _ in range(steps):
        gx, gy = grad_fn(x, y)
        if gx == 0.0 and gy == 0.0:  # exact already; also avoids a singular Hessian (monkey saddle)
            break
        a, b, c = hess_fn(x, y)
        det = a * c - b * b
        x, y = x - (c * gx - b * gy) / det, y - (a * gy - b * gx) / det
    return (x, y)


def _add(name: str, title: str, formula: str, description: str, f: Callable, grad_fn: Callable,
         hess_fn: Callable, *, minima: Sequence[Point] = (), saddles: Sequence[Point] = (),
         xrange: tuple[float, float], yrange: tuple[float, float], start: Point, log_color: bool = False) -> None:
    """Register a landscape; approximate critical points are refined to machine precision here."""
    minima = tuple(_newton(grad_fn, hess_fn, p) for p in minima)
    saddles = tuple(_newton(grad_fn, hess_fn, p) for p in saddles)
    if minima:
        fmin = float(f(*minima[0]))
    else:  # unbounded below: the lowest value in view, so log colouring stays well defined
        xs, ys = np.linspace(*xrange, 401), np.linspace(*yrange, 401)  # odd: includes 0 and ends
        fmin = float(np.min(f(xs[None, :], ys[:, None])))
    LANDSCAPES[name] = Landscape(name, title, formula, description, f, grad_fn, hess_fn, minima,
                                 saddles, xrange, yrange, start, log_color, fmin)


# --- bowls -------------------------------------------------------------------------------------

_add("quadratic", "Quadratic bowl", "x² + y²",
     "A perfectly round bowl: the gradient points straight at the minimum, so gradient descent "
     "walks a straight line. The baseline every other surface is compared with.",
     lambda x, y: x**2 + y**2,
     lambda x, y: (2.0 * x, 2.0 * y),
     lambda x, y: (2.0, 0.0, 2.0),
     minima=[(0.0, 0.0)], xrange=(-2.0, 2.0), yrange=(-2.0, 2.0), start=(-1.5, 1.7))

# Hessian diag(1, 20): condition number 20. Gradient descent is stable only for lr < 2/20 = 0.1,
# and at such a rate it crawls along x (factor 1 - lr per step) while zig-zagging across y.
_add("ravine", "Ravine", "½(x² + 20y²)",
     "A long narrow valley (condition number 20): plain gradient descent zig-zags across the steep "
     "walls and crawls along the floor. Momentum and adaptive methods fix this.",
     lambda x, y: 0.5 * (x**2 + 20.0 * y**2),
     lambda x, y: (x, 20.0 * y),
     lambda x, y: (1.0, 0.0, 20.0),
     minima=[(0.0, 0.0)], xrange=(-5.0, 5.0), yrange=(-2.5, 2.5), start=(-4.5, 1.0))

_add("booth", "Booth", "(x + 2y − 7)² + (2x + y − 5)²",
     "A tilted elliptical bowl with its minimum at (1, 3): still quadratic, so Newton's method "
     "jumps there in one step while gradient descent curves in.",
     lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
     lambda x, y: (10.0 * x + 8.0 * y - 34.0, 8.0 * x + 10.0 * y - 38.0),
     lambda x, y: (10.0, 8.0, 10.0),
     minima=[(1.0, 3.0)], xrange=(-10.0, 10.0), yrange=(-10.0, 10.0), start=(-8.0, -7.0))


# --- curved valleys ----------------------------------------------------------------------------

def _rosenbrock_grad(x, y):
    return (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x))


_add("rosenbrock", "Rosenbrock", "(1−x)² + 100(y−x²)²",
     "A curved banana-shaped valley: finding the valley is easy, following its flat floor to the "
     "minimum at (1, 1) is slow for plain gradient descent.",
     lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
     _rosenbrock_grad,
     lambda x, y: (2.0 - 400.0 * y + 1200.0 * x * x, -400.0 * x, 200.0),
     minima=[(1.0, 1.0)], xrange=(-2.0, 2.0), yrange=(-1.0, 3.0), start=(-1.5, 2.0),
     log_color=True)


def _beale_grad(x, y):
    u1, u2, u3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return (2.0 * (u1 * (y - 1.0) + u2 * (y**2 - 1.0) + u3 * (y**3 - 1.0)),
            2.0 * x * (u1 + 2.0 * u2 * y + 3.0 * u3 * y**2))


def _beale_hess(x, y):
    u1, u2, u3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    d1, d2, d3 = y - 1.0, y**2 - 1.0, y**3 - 1.0  # ∂u_k/∂x = y^k − 1,  ∂u_k/∂y = k·x·y^(k−1)
    fxx = 2.0 * (d1 * d1 + d2 * d2 + d3 * d3)
    fxy = 2.0 * (x * d1 + u1 + 2 * y * (x * d2 + u2) + 3 * y**2 * (x * d3 + u3))
    fyy = 2.0 * x * (x + 4 * x * y**2 + 2 * u2 + 9 * x * y**4 + 6 * u3 * y)
    return (fxx, fxy, fyy)


_add("beale", "Beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
     "Flat plateaus next to walls rising to 10⁵: gradients vary wildly in size, which punishes a "
     "fixed learning rate. Minimum at (3, 0.5), a saddle at (0, 1).",
     lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
     _beale_grad, _beale_hess,
     minima=[(3.0, 0.5)], saddles=[(0.0, 1.0)], xrange=(-4.5, 4.5), yrange=(-4.5, 4.5),
     start=(1.0, 1.5), log_color=True)


# --- saddles -----------------------------------------------------------------------------------

_add("saddle", "Saddle", "x² − y²",
     "A pass between two hills: the gradient vanishes at the origin, but it is not a minimum. "
     "Started just off the axis, gradient descent slows near the saddle, then escapes along y.",
     lambda x, y: x**2 - y**2,
     lambda x, y: (2.0 * x, -2.0 * y),
     lambda x, y: (2.0, 0.0, -2.0),
     saddles=[(0.0, 0.0)], xrange=(-2.0, 2.0), yrange=(-2.0, 2.0), start=(-1.8, 0.01))

_add("monkey_saddle", "Monkey saddle", "x³ − 3xy²",
     "A saddle with three valleys (room for a monkey's tail) whose Hessian is zero at the origin: "
     "second-order methods see no curvature there, and descent creeps before it escapes.",
     lambda x, y: x**3 - 3 * x * y**2,
     lambda x, y: (3.0 * (x * x - y * y), -6.0 * x * y),
     lambda x, y: (6.0 * x, -6.0 * y, -6.0 * x),
     saddles=[(0.0, 0.0)], xrange=(-2.0, 2.0), yrange=(-2.0, 2.0), start=(1.5, 0.1))


# --- several minima ----------------------------------------------------------------------------

def _himmelblau_grad(x, y):
    a, b = x * x + y - 11.0, x + y * y - 7.0
    return (4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b)


_add("himmelblau", "Himmelblau", "(x² + y − 11)² + (x + y² − 7)²",
     "Four equally good minima around a central peak: which one you reach depends only on where "
     "you start. Try several start points.",
     lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
     _himmelblau_grad,
     lambda x, y: (12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y * y - 26.0),
     minima=[(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
     saddles=[(0.086678, 2.884255), (-3.073026, -0.081353), (3.385154, 0.073852),
              (-0.127961, -1.953715)],
     xrange=(-5.0, 5.0), yrange=(-5.0, 5.0), start=(-0.5, -0.2), log_color=True)

_add("six_hump_camel", "Six-hump camel", "(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²",
     "Six minima, two of them global (f ≈ −1.0316) and four local traps, plus a saddle at the "
     "origin: a small map of what can go wrong in non-convex optimisation.",
     lambda x, y: (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
     lambda x, y: (8.0 * x - 8.4 * x**3 + 2.0 * x**5 + y, x - 8.0 * y + 16.0 * y**3),
     lambda x, y: (8.0 - 25.2 * x * x + 10.0 * x**4, 1.0, -8.0 + 48.0 * y * y),
     minima=[(0.0898, -0.7126), (-0.0898, 0.7126), (-1.7036, 0.7961), (1.7036, -0.7961),
             (-1.6071, -0.5687), (1.6071, 0.5687)],
     saddles=[(0.0, 0.0)], xrange=(-2.0, 2.0), yrange=(-1.2, 1.2), start=(-1.9, -1.1))

# Separable: ∂f/∂x depends on x alone, so critical points are products of the roots of
# 2t³ − 16t + 2.5 = 0 (t ≈ −2.9035 min, 0.1567 max, 2.7468 min).
_add("styblinski_tang", "Styblinski–Tang", "½(x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)",
     "Four basins of different depth: the global minimum is the bottom-left one, the other three are "
     "local. Gradient descent settles in whichever basin it starts in.",
     lambda x, y: 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y),
     lambda x, y: (2.0 * x**3 - 16.0 * x + 2.5, 2.0 * y**3 - 16.0 * y + 2.5),
     lambda x, y: (6.0 * x * x - 16.0, 0.0, 6.0 * y * y - 16.0),
     minima=[(-2.9035, -2.9035), (2.7468, -2.9035), (-2.9035, 2.7468), (2.7468, 2.7468)],
     saddles=[(0.1567, -2.9035), (-2.9035, 0.1567), (0.1567, 2.7468), (2.7468, 0.1567)],
     xrange=(-5.0, 5.0), yrange=(-5.0, 5.0), start=(0.3, 4.5))


# --- rugged ------------------------------------------------------------------------------------

_add("rastrigin", "Rastrigin", "20 + x² + y² − 10(cos 2πx + cos 2πy)",
     "A bowl covered in a regular egg-box of local minima, one near every integer point: gradient "
     "descent stops in the nearest dimple. The global minimum is at the origin.",
     # 10(1 − cos) rather than 20 − 10 cos keeps f exactly 0 at the origin.
     lambda x, y: x**2 + y**2 + 10 * (1 - np.cos(TAU * x)) + 10 * (1 - np.cos(TAU * y)),
     lambda x, y: (2.0 * x + 10.0 * TAU * math.sin(TAU * x), 2.0 * y + 10.0 * TAU * math.sin(TAU * y)),
     lambda x, y: (2.0 + 10.0 * TAU**2 * math.cos(TAU * x), 0.0,
                   2.0 + 10.0 * TAU**2 * math.cos(TAU * y)),
     minima=[(0.0, 0.0)], xrange=(-5.12, 5.12), yrange=(-5.12, 5.12), start=(-3.3, 2.6))


def _ackley(x, y):
    r = np.sqrt(0.5 * (x**2 + y**2))
    # −20·expm1 and e − exp(...) are the textbook terms regrouped so that f(0, 0) is exactly 0.
    return -20.0 * np.expm1(-0.2 * r) + (math.e - np.exp(0.5 * (np.cos(TAU * x) + np.cos(TAU * y))))


def _ackley_grad(x, y):
    """Exact gradient; (0, 0) at the origin, where the cone term has no derivative."""
    r = math.sqrt(0.5 * (x * x + y * y))
    w = math.exp(0.5 * (math.cos(TAU * x) + math.cos(TAU * y)))
    cone = 2.0 * math.exp(-0.2 * r) / r if r > 0.0 else 0.0  # ∂/∂x of the cone term is x·cone
    return (x * cone + math.pi * math.sin(TAU * x) * w, y * cone + math.pi * math.sin(TAU * y) * w)


def _ackley_hess(x, y):
    """Exact Hessian; at the origin the cone's curvature is infinite, so only the (finite, positive
    definite) Hessian of the cosine term is returned there."""
    sx, sy, cx, cy = math.sin(TAU * x), math.sin(TAU * y), math.cos(TAU * x), math.cos(TAU * y)
    w = math.exp(0.5 * (cx + cy))
    pi2 = math.pi**2
    fxx, fxy, fyy = pi2 * w * (2 * cx - sx * sx), -pi2 * w * sx * sy, pi2 * w * (2 * cy - sy * sy)
    r = math.sqrt(0.5 * (x * x + y * y))
    if r > 0.0:
        e = math.exp(-0.2 * r)
        cone, k = 2.0 * e / r, e * (0.2 * r + 1.0) / r**3
        fxx, fxy, fyy = fxx + cone - k * x * x, fxy - k * x * y, fyy + cone - k * y * y
    return (fxx, fxy, fyy)


_add("ackley", "Ackley", "−20·exp(−0.2·√(½(x²+y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20",
     "A nearly flat, bumpy plain around a deep, sharp hole at the origin: the gradient is tiny far "
     "away and full of local minima. The tip of the hole is a cone, not differentiable.",
     _ackley, _ackley_grad, _ackley_hess,
     minima=[(0.0, 0.0)], xrange=(-5.0, 5.0), yrange=(-5.0, 5.0), start=(-3.3, 3.7))
