"""Fits the polynomial of the runtime's exact GELU (NXRuntime ElementwiseMath.gelu).

For a = |x|/sqrt(2) >= 0 the kernel computes erfc(a)/2 as t * exp(P(t) - a^2) with
t = 1/(1 + a/2), so P(t) must approximate log(erfc(a)/t) + a^2 - log(2). The fit is a
weighted least-squares polynomial in t (Lawson iterations towards minimax) on a in [0, 9.2],
and the script reports the error of the float32 evaluation the kernel performs.

Rerun: /work/venv-torch/bin/python Converters/python/fit_gelu.py  (numpy and scipy only)
"""

import numpy as np
from scipy.special import erf, erfc

A_MAX = 9.2
DEGREE = 9


def target(t):
    a = 2 * (1 / t - 1)
    return np.log(erfc(a)) + a * a - np.log(t) + np.log(0.5)


def fit():
    t_min = 1 / (1 + A_MAX / 2)
    nodes = 4000
    k = np.arange(nodes)
    ts = (t_min + 1) / 2 + (1 - t_min) / 2 * np.cos(np.pi * (k + 0.5) / nodes)
    values = target(ts)
    weights = np.ones(nodes)
    vandermonde = np.vander(ts, DEGREE + 1)
    for _ in range(30):
        coefficients, *_ = np.linalg.lstsq(vandermonde * weights[:, None], values * weights, rcond=None)
        error = np.abs(vandermonde @ coefficients - values)
        weights = weights * (error / error.max()) ** 0.3 + 1e-12
        weights /= weights.max()
    return coefficients.astype(np.float32), error.max()


def fused_multiply_add(a, b, c):
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def gelu_float32(x, coefficients):
    """The kernel's wide-input path, rounding as float32 does (FMAs rounded once)."""
    x = x.astype(np.float32)
    a = np.abs(x * np.float32(0.70710677)).astype(np.float32)
    t = (np.float32(1) / fused_multiply_add(a, np.full_like(a, 0.5), np.ones_like(a))).astype(np.float32)
    p = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        p = fused_multiply_add(p, t, np.full_like(t, c))
    e = (t * np.exp(fused_multiply_add(-a, a, p).astype(np.float64)).astype(np.float32)).astype(np.float32)
    phi = np.where(x < 0, e, (np.float32(1) - e).astype(np.float32))
    return (x * phi).astype(np.float32)


def main():
    coefficients, fit_error = fit()
    print(f"degree {DEGREE}, fit error {fit_error:.2e} (absolute, in log erfc)")
    xs = np.linspace(-8, 8, 40001).astype(np.float32)
    d = xs.astype(np.float64)
    reference = 0.5 * d * (1 + erf(d / np.sqrt(2)))
    core = np.abs(gelu_float32(xs, coefficients) - reference) / np.maximum(1, np.abs(reference))
    print(f"GELU on [-8, 8]: max |error| / max(1, |GELU|) = {core.max():.2e}")
    tail_x = np.linspace(-12.7, -1, 20001).astype(np.float32)
    d = tail_x.astype(np.float64)
    tail_reference = 0.5 * d * erfc(-d / np.sqrt(2))
    tail = np.abs(gelu_float32(tail_x, coefficients) - tail_reference) / np.abs(tail_reference)
    print(f"GELU on [-12.7, -1]: max relative error = {tail.max():.2e}")
    print("coefficients, highest degree first:")
    for c in coefficients:
        print(f"  {float(c)!r}")


if __name__ == "__main__":
    main()
