"""Fits the approximations of the runtime's exact GELU (NXRuntime ElementwiseMath.gelu).

Tail: for a = |x|/sqrt(2) >= 0 the kernel computes erfc(a)/2 as t * exp(P(t) - a^2) with
t = 1/(1 + a/2), so P(t) must approximate log(erfc(a)/t) + a^2 - log(2). The fit is a
weighted least-squares polynomial in t (Lawson iterations towards minimax) on a in [0, 9.2],
and the script reports the error of the float32 evaluation the kernel performs.

Middle (`erfRational`): erf(z) on [0, 4] as z * N(z^2) / D(z^2), degrees 6 and 5, D(0) = 1,
fitted by linearized least squares (z N - erf D = 0, reweighted by 1/D and towards
minimax), then checked in float32 as the kernel evaluates it.

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


RATIONAL_Z_MAX = 4.0
RATIONAL_DEGREES = (6, 5)


def fit_rational():
    """N (constant term first) and D (D[0] = 1) with erf(z) ~ z N(z^2) / D(z^2) on [0, 4]."""
    degree_n, degree_d = RATIONAL_DEGREES
    nodes = 6000
    k = np.arange(nodes)
    z = RATIONAL_Z_MAX / 2 + RATIONAL_Z_MAX / 2 * np.cos(np.pi * (k + 0.5) / nodes)
    w, f = z * z, erf(z)
    denominator, weights = np.ones(nodes), np.ones(nodes)
    for _ in range(60):
        system = np.hstack([z[:, None] * w[:, None] ** np.arange(degree_n + 1),
                            -f[:, None] * w[:, None] ** np.arange(1, degree_d + 1)])
        scale = weights / denominator
        solution, *_ = np.linalg.lstsq(system * scale[:, None], f * scale, rcond=None)
        n = solution[:degree_n + 1]
        d = np.concatenate([[1.0], solution[degree_n + 1:]])
        denominator = np.polyval(d[::-1], w)
        error = np.abs(z * np.polyval(n[::-1], w) / denominator - f)
        weights = weights * (error / error.max()) ** 0.2 + 1e-12
        weights /= weights.max()
    return n.astype(np.float32), d.astype(np.float32), error.max()


def erf_rational_float32(u, n, d):
    z = np.clip(u.astype(np.float32), np.float32(-RATIONAL_Z_MAX), np.float32(RATIONAL_Z_MAX))
    w = (z * z).astype(np.float32)
    numerator = np.full_like(w, n[-1])
    for c in n[-2::-1]:
        numerator = fused_multiply_add(numerator, w, np.full_like(w, c))
    denominator = np.full_like(w, d[-1])
    for c in d[-2::-1]:
        denominator = fused_multiply_add(denominator, w, np.full_like(w, c))
    return np.clip(((z * numerator).astype(np.float32) / denominator).astype(np.float32), -1, 1)


def report_rational():
    n, d, fit_error = fit_rational()
    print(f"rational erf, degrees {RATIONAL_DEGREES}: fit error {fit_error:.2e} (absolute)")
    z = np.linspace(0, 6, 200001).astype(np.float32)
    error = np.abs(erf_rational_float32(z, n, d).astype(np.float64) - erf(z.astype(np.float64)))
    print(f"  float32 evaluation: max |error| {error.max():.2e}")
    xs = np.linspace(-2.475, 8, 40001).astype(np.float32)
    d64 = xs.astype(np.float64)
    gelu = (np.float32(0.5) * xs * (np.float32(1) + erf_rational_float32(xs * np.float32(0.70710677), n, d))).astype(np.float32)
    reference = 0.5 * d64 * erfc(-d64 / np.sqrt(2))
    print(f"  GELU on [-2.475, 8]: max |error| / max(1, |GELU|) = "
          f"{(np.abs(gelu - reference) / np.maximum(1, np.abs(reference))).max():.2e}; "
          f"relative on [-2.475, -1]: {(np.abs(gelu - reference) / np.abs(reference))[xs <= -1].max():.2e}")
    print("  numerator, highest degree first:", [float(c) for c in n[::-1]])
    print("  denominator, highest degree first:", [float(c) for c in d[::-1]])


def main():
    report_rational()
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
