"""HoVer-Net's post-processing, as the executable reference for Swift's NXPathology.PostProcessor.

Written for this project from the algorithm of vqdang/hover_net (models/hovernet/post_proc.py:
`__proc_np_hv` and `process`; misc/utils.py: `remove_small_objects`, `get_bounding_box`), with
the same library calls in the same order, so that its outputs are what HoVer-Net's code gives
on the pinned library versions (Converters/python/requirements-ci.txt). Spec/POSTPROCESSING.md
explains each step, constant and choice; the Swift code follows that page.

Where this file departs from HoVer-Net (each one is listed in the spec, §5):
  - instance ids are `ids[ids > 0]` rather than HoVer-Net's `np.unique(...)[1:]`, which drops the
    smallest id when no pixel is background;
  - the stored contour is the outer border (RETR_EXTERNAL) of the instance's largest
    8-connected component, CHAIN_APPROX_NONE by default; HoVer-Net stores contours[0] of
    RETR_TREE with CHAIN_APPROX_SIMPLE (the same border, compressed), which we also record;
  - HoVer-Net's "contour has fewer than 3 points -> skip the instance" rule is kept, applied to
    the CHAIN_APPROX_SIMPLE outer border of that component.

Use as a module (`proc_np_hv`, `instance_records`) or run it on .npy files:
  python hovernet_postproc_reference.py NP.npy HV.npy [TP.npy] > records.json
"""

import json
import sys

import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

FOREGROUND_THRESHOLD = 0.5  # NP probability at or above which a pixel is nucleus
MIN_OBJECT_SIZE = 10  # components (foreground and markers) under this many pixels are dropped
SOBEL_KSIZE = 21  # cv2.Sobel aperture for the HV gradients
MARKER_THRESHOLD = 0.4  # energy at or above which a foreground pixel is a boundary, not a marker
OPENING_KSIZE = 5  # elliptical structuring element of the marker opening


def remove_small_objects(labels: np.ndarray, min_size: int) -> np.ndarray:
    """HoVer-Net's misc.utils.remove_small_objects on a label image: zero every label whose
    pixel count (np.bincount) is under min_size; labels are not renumbered."""
    out = labels.copy()
    sizes = np.bincount(out.ravel())
    out[(sizes < min_size)[out]] = 0
    return out


def proc_np_hv(np_prob, hv, stages: bool = False):
    """`__proc_np_hv`: NP probability (H, W) and HV maps (2, H, W: horizontal, vertical) ->
    int32 instance labels (H, W), 0 = background. With stages=True also returns a dict of the
    intermediate maps (the names the Swift `PostProcessingStages` uses)."""
    blb_raw = np.asarray(np_prob, dtype=np.float32)
    h_dir_raw = np.asarray(hv[0], dtype=np.float32)
    v_dir_raw = np.asarray(hv[1], dtype=np.float32)

    blb = np.array(blb_raw >= FOREGROUND_THRESHOLD, dtype=np.int32)
    blb = ndimage.label(blb)[0]  # default structure: 4-connectivity in 2-D
    blb = remove_small_objects(blb, MIN_OBJECT_SIZE)
    blb[blb > 0] = 1

    h_dir = cv2.normalize(h_dir_raw, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)
    v_dir = cv2.normalize(v_dir_raw, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)

    sobelh = cv2.Sobel(h_dir, cv2.CV_64F, 1, 0, ksize=SOBEL_KSIZE)
    sobelv = cv2.Sobel(v_dir, cv2.CV_64F, 0, 1, ksize=SOBEL_KSIZE)

    sobelh = 1 - cv2.normalize(sobelh, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)
    sobelv = 1 - cv2.normalize(sobelv, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)

    overall = np.maximum(sobelh, sobelv)
    overall = overall - (1 - blb)  # float32 - int32: float64 from here on
    overall[overall < 0] = 0
    energy = overall

    dist = (1.0 - overall) * blb
    dist = -cv2.GaussianBlur(dist, (3, 3), 0)  # basins where nuclei are

    overall = np.array(overall >= MARKER_THRESHOLD, dtype=np.int32)

    marker = blb - overall
    marker[marker < 0] = 0
    marker = ndimage.binary_fill_holes(marker).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (OPENING_KSIZE, OPENING_KSIZE))
    marker = cv2.morphologyEx(marker, cv2.MORPH_OPEN, kernel)
    marker = ndimage.label(marker)[0]
    marker = remove_small_objects(marker, MIN_OBJECT_SIZE)

    labels = watershed(dist, markers=marker, mask=blb).astype(np.int32)
    if not stages:
        return labels
    return labels, {
        "foreground": blb.astype(np.uint8),
        "sobel_h": sobelh.astype(np.float32),
        "sobel_v": sobelv.astype(np.float32),
        "energy": energy.astype(np.float64),
        "dist": dist.astype(np.float64),
        "markers": marker.astype(np.int32),
    }


def get_bounding_box(mask: np.ndarray):
    """misc.utils.get_bounding_box: [rmin, rmax, cmin, cmax], the max ends exclusive."""
    rows = np.any(mask, axis=1)
    cols = np.any(mask, axis=0)
    rmin, rmax = np.where(rows)[0][[0, -1]]
    cmin, cmax = np.where(cols)[0][[0, -1]]
    return [int(rmin), int(rmax) + 1, int(cmin), int(cmax) + 1]


def outer_contour(crop: np.ndarray, method: int) -> np.ndarray:
    """The outer border (RETR_EXTERNAL) of the largest 8-connected component of a 0/1 uint8
    crop, as (N, 2) int32 x, y points in crop coordinates. Ties in area go to the component
    met first in raster order (connectedComponents numbers components in that order)."""
    count, components, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
    largest = 1 + int(np.argmax(stats[1:count, cv2.CC_STAT_AREA]))
    component = (components == largest).astype(np.uint8)
    contours = cv2.findContours(component, cv2.RETR_EXTERNAL, method)[0]
    return contours[0].reshape(-1, 2).astype(np.int32)


def instance_records(labels: np.ndarray, type_map=None):
    """`process` after `__proc_np_hv`: per-instance bbox, centroid (cv2.moments), contour and,
    with a type map (H, W ints: the TP argmax), type and type probability."""
    ids = np.unique(labels)
    ids = ids[ids > 0]
    records = []
    for inst_id in ids:
        inst_map = labels == inst_id
        rmin, rmax, cmin, cmax = get_bounding_box(inst_map)
        crop = inst_map[rmin:rmax, cmin:cmax].astype(np.uint8)
        moments = cv2.moments(crop)
        simple = outer_contour(crop, cv2.CHAIN_APPROX_SIMPLE)
        if simple.shape[0] < 3:
            continue  # HoVer-Net: "< 3 points dont make a contour, so skip"
        contour = outer_contour(crop, cv2.CHAIN_APPROX_NONE)
        centroid = [moments["m10"] / moments["m00"] + cmin, moments["m01"] / moments["m00"] + rmin]
        record = {
            "id": int(inst_id),
            "bbox": [[rmin, cmin], [rmax, cmax]],
            "centroid": [float(centroid[0]), float(centroid[1])],
            # exact bits, for readers whose JSON number parsing is not correctly rounded
            "centroid_hex": [float(centroid[0]).hex(), float(centroid[1]).hex()],
            "pixel_count": int(crop.sum()),
            "contour": (contour + [cmin, rmin]).tolist(),
            "contour_simple": (simple + [cmin, rmin]).tolist(),
        }
        if type_map is not None:
            inst_type = np.asarray(type_map)[rmin:rmax, cmin:cmax][crop > 0]
            type_list, type_pixels = np.unique(inst_type, return_counts=True)
            ranked = sorted(zip(type_list, type_pixels), key=lambda x: x[1], reverse=True)
            winner = ranked[0][0]
            if winner == 0 and len(ranked) > 1:
                winner = ranked[1][0]  # background loses to any nucleus type present
            counts = {int(t): int(n) for t, n in ranked}
            record["type"] = int(winner)
            record["type_prob"] = float(counts[int(winner)] / (np.sum(crop > 0) + 1.0e-6))
        records.append(record)
    return records


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    np_prob = np.load(argv[1])
    hv = np.load(argv[2])
    type_map = np.load(argv[3]) if len(argv) == 4 else None
    if type_map is not None and type_map.ndim == 3:
        type_map = np.argmax(type_map, axis=0)
    labels = proc_np_hv(np_prob, hv)
    json.dump(instance_records(labels, type_map), sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
