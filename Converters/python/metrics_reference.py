"""Reference formulas for the evaluation metrics of the HistoNeXt paper (eq. 13-21).

Written for this project from the definitions in the papers and in the public scripts they
cite, so that the Swift implementation (Sources/NXPathology/Metrics*.swift) has independent
numbers to match:

  - DICE, AJI, AJI+, DQ/SQ/PQ as HoVer-Net's `metrics/stats_utils.py` computes them
    (get_dice_1, get_fast_aji, get_fast_aji_plus, get_fast_pq with match_iou=0.5);
  - detection F1 and type-specific F1 as HoVer-Net's `compute_stats.py::run_nuclei_type_stat`
    (centroids paired within 12 px by an optimal assignment of the full distance matrix,
    counts pooled over all images, type weights w = [2, 2, 1, 1]);
  - bPQ and mPQ as PanNuke's official `run.py` (per-image PQ on the merged map and per
    class, NaN for an empty ground truth, nanmean over classes, then images, then tissues).

Where the public scripts raise (ZeroDivisionError, argmax of an empty sequence) this module
returns the value documented in Spec/METRICS.md instead; every such case is marked
"EMPTY CASE" below. Everything here works on dense numpy arrays and scipy's
`linear_sum_assignment`, the way the original scripts do, so it is slow but literal.

Instance maps are 2-D integer arrays: 0 is background, every other value one instance.
Labels need not be contiguous: instances are ordered by ascending label, which is the order
HoVer-Net's `remap_label` (by_size=False) gives them.
"""

import math

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

NAN = float("nan")
# HoVer-Net adds this to the union in AJI/AJI+'s IoU and to SQ's denominator.
EPSILON = 1.0e-6


def instance_ids(instance_map):
    """Sorted non-zero labels of an instance map."""
    ids = np.unique(instance_map)
    return ids[ids != 0]


def overlaps(truth, pred):
    """Dense pairwise statistics between the instances of two maps.

    Returns (true_ids, pred_ids, inter, true_area, pred_area) where inter[i, j] is the number
    of pixels labelled true_ids[i] in `truth` and pred_ids[j] in `pred`.
    """
    truth = np.asarray(truth, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    if truth.shape != pred.shape:
        raise ValueError(f"shape mismatch: {truth.shape} vs {pred.shape}")
    true_ids, pred_ids = instance_ids(truth), instance_ids(pred)
    true_area = np.array([(truth == t).sum() for t in true_ids], dtype=np.int64)
    pred_area = np.array([(pred == p).sum() for p in pred_ids], dtype=np.int64)
    inter = np.zeros((len(true_ids), len(pred_ids)), dtype=np.int64)
    both = (truth > 0) & (pred > 0)
    t_index = np.searchsorted(true_ids, truth[both])
    p_index = np.searchsorted(pred_ids, pred[both])
    np.add.at(inter, (t_index, p_index), 1)
    return true_ids, pred_ids, inter, true_area, pred_area


def dice(truth, pred):
    """Eq. 13 on the binarised maps (HoVer-Net get_dice_1).

    EMPTY CASE: both maps empty gives 0/0 = NaN, as numpy does.
    """
    t = np.asarray(truth) > 0
    p = np.asarray(pred) > 0
    denominator = int(t.sum()) + int(p.sum())
    if denominator == 0:
        return NAN
    return 2.0 * int((t & p).sum()) / denominator


def _pair_unions(inter, true_area, pred_area):
    """HoVer-Net only fills the union where two instances overlap; elsewhere it stays 0."""
    union = true_area[:, None] + pred_area[None, :] - inter
    return np.where(inter > 0, union, 0)


def aji(truth, pred):
    """Eq. 14 (HoVer-Net get_fast_aji, the MoNuSeg definition).

    Every true instance takes the prediction with the largest inter / (union + 1e-6), the
    first (lowest label) on ties; a prediction may serve several true instances. Truths
    without any overlap and predictions nobody took add their area to the union.

    EMPTY CASES: both maps empty gives 0/0 = NaN; an empty prediction gives 0 (HoVer-Net
    raises on the argmax of an empty row in both cases).
    """
    true_ids, pred_ids, inter, true_area, pred_area = overlaps(truth, pred)
    union = _pair_unions(inter, true_area, pred_area)
    total_inter = 0
    total_union = 0
    used = np.zeros(len(pred_ids), dtype=bool)
    for i in range(len(true_ids)):
        if len(pred_ids) == 0:
            total_union += int(true_area[i])
            continue
        iou = inter[i].astype(np.float64) / (union[i].astype(np.float64) + EPSILON)
        j = int(np.argmax(iou))
        if iou[j] > 0.0:
            total_inter += int(inter[i, j])
            total_union += int(union[i, j])
            used[j] = True
        else:
            total_union += int(true_area[i])
    total_union += int(pred_area[~used].sum())
    if total_union == 0:
        return NAN
    return total_inter / total_union


def aji_plus(truth, pred):
    """AJI+ (HoVer-Net get_fast_aji_plus): AJI with a one-to-one pairing that maximises the
    summed inter / (union + 1e-6) (scipy's linear_sum_assignment of the negated matrix);
    pairs without overlap are dropped.

    EMPTY CASE: both maps empty gives 0/0 = NaN, as HoVer-Net's numpy division does.
    """
    true_ids, pred_ids, inter, true_area, pred_area = overlaps(truth, pred)
    union = _pair_unions(inter, true_area, pred_area)
    iou = inter.astype(np.float64) / (union.astype(np.float64) + EPSILON)
    rows, cols = linear_sum_assignment(-iou)
    keep = iou[rows, cols] > 0.0
    rows, cols = rows[keep], cols[keep]
    total_inter = int(inter[rows, cols].sum())
    total_union = int(union[rows, cols].sum())
    paired_true = np.zeros(len(true_ids), dtype=bool)
    paired_pred = np.zeros(len(pred_ids), dtype=bool)
    paired_true[rows] = True
    paired_pred[cols] = True
    total_union += int(true_area[~paired_true].sum()) + int(pred_area[~paired_pred].sum())
    if total_union == 0:
        return NAN
    return total_inter / total_union


def panoptic(truth, pred, match_iou=0.5):
    """Eq. 15-17 (HoVer-Net get_fast_pq with match_iou=0.5): pairs with IoU > 0.5 (unique by
    construction), DQ = TP / (TP + FP/2 + FN/2), SQ = sum IoU / (TP + 1e-6), PQ = DQ * SQ.

    Returns dict(dq, sq, pq, tp, fp, fn). EMPTY CASE: both maps empty gives DQ = NaN
    (HoVer-Net raises ZeroDivisionError), SQ = 0 (its formula, 0 / 1e-6) and PQ = NaN.
    """
    assert match_iou >= 0.5, "below 0.5 HoVer-Net switches to an assignment; not used here"
    true_ids, pred_ids, inter, true_area, pred_area = overlaps(truth, pred)
    union = true_area[:, None] + pred_area[None, :] - inter
    iou = np.where(inter > 0, inter / np.maximum(union, 1), 0.0)
    rows, cols = np.nonzero(iou > match_iou)
    paired_iou = iou[rows, cols]
    tp = len(rows)
    fp = len(pred_ids) - tp
    fn = len(true_ids) - tp
    denominator = tp + 0.5 * fp + 0.5 * fn
    dq = tp / denominator if denominator > 0 else NAN
    sq = float(paired_iou.sum()) / (tp + EPSILON)
    return {"dq": dq, "sq": sq, "pq": dq * sq, "tp": tp, "fp": fp, "fn": fn}


def segmentation(truth, pred):
    """Every per-image segmentation metric HoVer-Net's run_nuclei_inst_stat reports."""
    scores = panoptic(truth, pred)
    return {
        "dice": dice(truth, pred),
        "aji": aji(truth, pred),
        "aji_plus": aji_plus(truth, pred),
        **scores,
    }


def mean(values):
    """np.mean: one NaN makes the mean NaN (HoVer-Net averages per-image scores so)."""
    return float(np.mean(np.asarray(values, dtype=np.float64))) if len(values) else NAN


def nanmean(values):
    """np.nanmean without its warning: NaN when every value is NaN or there are none."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else NAN


# ---------------------------------------------------------------- classification (eq. 20-21)


def pair_centroids(truth, pred, radius=12.0):
    """HoVer-Net pair_coordinates: optimal assignment on the full Euclidean distance matrix,
    then pairs farther than `radius` are dropped (distance <= radius is kept).

    Returns (pairs as [[true_index, pred_index], ...] sorted by true index, unpaired_true,
    unpaired_pred).
    """
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 2)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    if len(truth) == 0 or len(pred) == 0:
        return [], list(range(len(truth))), list(range(len(pred)))
    distance = cdist(truth, pred, metric="euclidean")
    rows, cols = linear_sum_assignment(distance)
    keep = distance[rows, cols] <= radius
    pairs = [[int(r), int(c)] for r, c in zip(rows[keep], cols[keep])]
    paired_true = {r for r, _ in pairs}
    paired_pred = {c for _, c in pairs}
    return (
        pairs,
        [i for i in range(len(truth)) if i not in paired_true],
        [j for j in range(len(pred)) if j not in paired_pred],
    )


def classification(images, type_ids=None, radius=12.0, placeholder=True):
    """HoVer-Net run_nuclei_type_stat over a list of images, each a dict with
    true_centroids (N x 2, x then y), true_types (N), pred_centroids, pred_types.

    Pairing is per image; counts are pooled over all images. With `placeholder` (HoVer-Net's
    behaviour) an image side without nuclei gets one dummy nucleus at (0, 0) of type 0.

    f1_d  = 2 TP / (2 TP + FP + FN)                                         (eq. 20)
    f1_c  = 2 (TPc + TNc) / (2 (TPc + TNc) + 2 FPc + 2 FNc + FPd,c + FNd,c) (eq. 21)
    where, as in HoVer-Net's _f1_type, the paired nuclei are first restricted to those whose
    true or predicted type is c (so TNc is always 0), FPc / FNc are paired nuclei predicted
    c but truly another type / truly c but predicted another type, and FPd,c / FNd,c are the
    unpaired predictions / truths of type c.
    Also returns acc = paired nuclei with the right type / paired nuclei.
    Default type_ids: the sorted distinct true types (HoVer-Net's np.unique).
    """
    paired_true_types, paired_pred_types = [], []
    unpaired_true_types, unpaired_pred_types = [], []
    all_true_types = []
    for image in images:
        tc = np.asarray(image["true_centroids"], dtype=np.float64).reshape(-1, 2)
        tt = [int(t) for t in image["true_types"]]
        pc = np.asarray(image["pred_centroids"], dtype=np.float64).reshape(-1, 2)
        pt = [int(t) for t in image["pred_types"]]
        if placeholder and len(tt) == 0:
            tc, tt = np.zeros((1, 2)), [0]
        if placeholder and len(pt) == 0:
            pc, pt = np.zeros((1, 2)), [0]
        pairs, unpaired_true, unpaired_pred = pair_centroids(tc, pc, radius)
        all_true_types += tt
        paired_true_types += [tt[i] for i, _ in pairs]
        paired_pred_types += [pt[j] for _, j in pairs]
        unpaired_true_types += [tt[i] for i in unpaired_true]
        unpaired_pred_types += [pt[j] for j in unpaired_pred]

    def ratio(numerator, denominator):
        return numerator / denominator if denominator else NAN

    tp_d = len(paired_true_types)
    fp_d = len(unpaired_pred_types)
    fn_d = len(unpaired_true_types)
    correct = sum(1 for t, p in zip(paired_true_types, paired_pred_types) if t == p)
    result = {
        "f1_detection": ratio(2 * tp_d, 2 * tp_d + fp_d + fn_d),
        "accuracy": ratio(correct, tp_d),
        "tp": tp_d,
        "fp": fp_d,
        "fn": fn_d,
    }
    if type_ids is None:
        type_ids = sorted(set(all_true_types))
    per_type = {}
    for c in type_ids:
        tp_c = sum(1 for t, p in zip(paired_true_types, paired_pred_types) if t == c and p == c)
        fp_c = sum(1 for t, p in zip(paired_true_types, paired_pred_types) if t != c and p == c)
        fn_c = sum(1 for t, p in zip(paired_true_types, paired_pred_types) if t == c and p != c)
        fp_dc = sum(1 for p in unpaired_pred_types if p == c)
        fn_dc = sum(1 for t in unpaired_true_types if t == c)
        per_type[str(c)] = ratio(2 * tp_c, 2 * tp_c + 2 * fp_c + 2 * fn_c + fp_dc + fn_dc)
    result["f1_types"] = per_type
    return result


# ---------------------------------------------------------------- PanNuke (eq. 18-19)


def binarize(class_maps):
    """PanNuke utils.binarize: merge per-class instance maps (C x H x W) into one map. Each
    (class, label) in class order then label order gets the next id; later classes overwrite
    earlier ones where they overlap."""
    class_maps = np.asarray(class_maps)
    out = np.zeros(class_maps.shape[1:], dtype=np.int64)
    count = 1
    for channel in class_maps:
        for label in instance_ids(channel):
            out[channel == label] = count
            count += 1
    return out


def pannuke_image(true_classes, pred_classes):
    """Per-image PanNuke scores: binary PQ on the merged maps and PQ per class; NaN where the
    ground truth (merged, or of that class) has no instance, as the official run.py does."""
    true_bin, pred_bin = binarize(true_classes), binarize(pred_classes)
    bpq = NAN if not true_bin.any() else panoptic(true_bin, pred_bin)["pq"]
    class_pq = []
    for t, p in zip(true_classes, pred_classes):
        class_pq.append(NAN if not np.asarray(t).any() else panoptic(t, p)["pq"])
    return {"bpq": bpq, "class_pq": class_pq, "mpq": nanmean(class_pq)}


def pannuke(images, tissues=None):
    """The official summary: per tissue, the nanmean over its images of the per-image mPQ
    (itself the nanmean over classes) and of the per-image bPQ; then the nanmean over
    tissues. Without tissue names every image is one tissue. Per-class PQ is the nanmean
    over all images; `mpq_class_averaged` is eq. 19 read literally (mean over classes of the
    per-class PQ, skipping classes absent from every image)."""
    per_image = [pannuke_image(t, p) for t, p in images]
    if tissues is None:
        tissues = ["all"] * len(images)
    order = list(dict.fromkeys(tissues))
    per_tissue = {}
    for name in order:
        members = [s for s, t in zip(per_image, tissues) if t == name]
        per_tissue[name] = {
            "bpq": nanmean([s["bpq"] for s in members]),
            "mpq": nanmean([s["mpq"] for s in members]),
        }
    classes = len(per_image[0]["class_pq"]) if per_image else 0
    class_pq = [nanmean([s["class_pq"][c] for s in per_image]) for c in range(classes)]
    return {
        "images": per_image,
        "tissues": per_tissue,
        "bpq": nanmean([v["bpq"] for v in per_tissue.values()]),
        "mpq": nanmean([v["mpq"] for v in per_tissue.values()]),
        "class_pq": class_pq,
        "mpq_class_averaged": nanmean(class_pq),
    }
