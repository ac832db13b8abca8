"""Type-aware sampling (paper eq. 11, "Class imbalance handling"): each patch takes the type
most of its nuclei have (t_d, ties to the smaller id, 0 when it has none) and is drawn with
probability proportional to the rate of that type, with replacement."""

from __future__ import annotations

from collections import Counter

import torch


def dominant_type(types: list[int]) -> int:
    if not types:
        return 0
    counts = Counter(types)
    return min(counts, key=lambda t: (-counts[t], t))


def parse_rates(text: str) -> dict[int, float] | str:
    """"auto" or "TYPE:RATE,..." (e.g. "2:3,5:10"); unnamed types get 1."""
    if text == "auto":
        return "auto"
    rates = {}
    for item in filter(None, text.split(",")):
        t, _, r = item.partition(":")
        rates[int(t)] = float(r)
    return rates


def auto_rates(dominant: list[int], low=1.0, high=20.0) -> dict[int, float]:
    """Rarer dominant types get higher rates: (most common count / count), within [1, 20]
    (the paper's range); patches without nuclei keep 1."""
    counts = Counter(t for t in dominant if t != 0)
    if not counts:
        return {}
    top = max(counts.values())
    return {t: min(high, max(low, top / n)) for t, n in counts.items()}


def type_aware_sampler(dataset, rates, num_samples: int, seed: int = 0):
    """A WeightedRandomSampler over the dataset's candidate patches; returns (sampler, info)."""
    dominant = [dominant_type(dataset.nucleus_types(i)) for i in range(len(dataset))]
    if rates == "auto":
        rates = auto_rates(dominant)
    weights = [rates.get(t, 1.0) for t in dominant]
    gen = torch.Generator().manual_seed(seed)
    sampler = torch.utils.data.WeightedRandomSampler(weights, num_samples, replacement=True, generator=gen)
    return sampler, {"rates": rates, "dominant_counts": dict(Counter(dominant))}
