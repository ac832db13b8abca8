"""Scores of predicted nuclei against the truth, with the metrics reference (the formulas
`nx evaluate` implements): per-image DICE, AJI, DQ, SQ, PQ averaged over images, and detection
and per-type F1 pooled over images (HoVer-Net's run_nuclei_*_stat), plus the paper's
Score = 0.5 AJI + 0.5 mean(F1 per type) (eq. 12)."""

from __future__ import annotations

import math

import numpy as np

import hovernet_postproc_reference as post
import metrics_reference as metrics


def truth_records(instances, types):
    return post.instance_records(instances, types)


def score(pairs) -> dict:
    """pairs: [(truth_instances, truth_types, pred_instances, pred_records), ...] per image."""
    seg = [metrics.segmentation(t_inst, p_inst) for t_inst, _, p_inst, _ in pairs]
    images = []
    for t_inst, t_types, _, p_records in pairs:
        t_records = truth_records(t_inst, t_types)
        images.append({
            "true_centroids": [r["centroid"] for r in t_records], "true_types": [r["type"] for r in t_records],
            "pred_centroids": [r["centroid"] for r in p_records], "pred_types": [r["type"] for r in p_records],
        })
    cls = metrics.classification(images)
    result = {k: metrics.mean([s[k] for s in seg]) for k in ("dice", "aji", "aji_plus", "dq", "sq", "pq")}
    result["f1_detection"] = cls["f1_detection"]
    result["f1_types"] = cls["f1_types"]
    f1s = [v for v in cls["f1_types"].values() if not math.isnan(v)]
    result["mean_type_f1"] = float(np.mean(f1s)) if f1s else 0.0
    aji = 0.0 if math.isnan(result["aji"]) else result["aji"]
    result["score"] = 0.5 * aji + 0.5 * result["mean_type_f1"]
    return result
