"""Unit tests of the training recipe (Converters/python/histonext_training): each loss on
hand-computed cases, the targets on synthetic instance maps, the sampler, and a --quick run.

Needs torch, timm, albumentations, scipy, scikit-image and opencv. Run from the repository root:
  /work/venv-torch/bin/python -m unittest discover -s Converters/python/tests -v
(Tests/NXPathologyTests/TrainingRecipeTests.swift runs it when NX_TORCH_PYTHON names such a Python.)
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import histonext_reference as ref  # noqa: E402
from histonext_training import losses, sampler, targets  # noqa: E402
from histonext_training.data import cut, reflect_index  # noqa: E402
from histonext_training.geometry import Geometry  # noqa: E402


def np_logits(p):
    """[1, 2, 1, len(p)] logits whose channel-1 softmax is p."""
    p = torch.tensor(p, dtype=torch.float64)
    return torch.stack([torch.zeros_like(p), torch.log(p / (1 - p))])[None, :, None, :]


class NPLossTests(unittest.TestCase):
    def test_hand_computed(self):
        # one nucleus pixel predicted 0.8, one background pixel predicted 0.3
        got = losses.np_loss(np_logits([0.8, 0.3]), torch.tensor([[[1.0, 0.0]]]))
        pos = -math.sqrt(0.2) * math.log(0.8)  # (1 - p)^0.5 log p
        neg = -(0.3 ** 4) * math.log(0.7)  # p^4 log(1 - p)
        self.assertAlmostEqual(float(got), (pos + neg) / 2, places=9)

    def test_predictions_are_clipped_to_005_095(self):
        got = losses.np_loss(np_logits([0.999, 0.001]), torch.tensor([[[1.0, 0.0]]]))
        pos = -math.sqrt(0.05) * math.log(0.95)  # 0.999 -> 0.95
        neg = -(0.05 ** 4) * math.log(0.95)  # 0.001 -> 0.05
        self.assertAlmostEqual(float(got), (pos + neg) / 2, places=9)

    def test_gamma_pos_is_a_parameter(self):
        got = losses.np_loss(np_logits([0.6]), torch.tensor([[[1.0]]]), gamma_pos=1.0)
        self.assertAlmostEqual(float(got), -(0.4 ** 1.0) * math.log(0.6), places=9)


class HVLossTests(unittest.TestCase):
    def test_sobel_ramp_response(self):
        # sum over the 5x5 grid of dx^2 / (dx^2 + dy^2): rows dy=0: 1+1+1+1, dy=+-1:
        # 4 x 1/2 + 4 x 4/5, dy=+-2: 4 x 1/5 + 4 x 4/8, total 12
        kx, ky = losses.sobel_kernels(5, torch.float64)
        xs = torch.arange(-2, 3, dtype=torch.float64)
        self.assertAlmostEqual(float((kx * xs[None, :]).sum()), 12.0, places=9)
        self.assertAlmostEqual(float((ky * xs[:, None]).sum()), 12.0, places=9)
        self.assertAlmostEqual(float(kx.sum()), 0.0, places=12)

    def _ramp(self, a, along):
        h = w = 9
        grid = torch.arange(w, dtype=torch.float64)
        ramp = a * (grid[None, :].expand(h, w) if along == "x" else grid[:, None].expand(h, w))
        pred = torch.zeros(1, 2, h, w, dtype=torch.float64)
        pred[0, 0] = ramp
        focus = torch.zeros(1, h, w, dtype=torch.float64)
        focus[0, 2:-2, 2:-2] = 1  # away from the zero padding
        return pred, focus, ramp

    def test_mse_plus_msge_on_a_horizontal_ramp(self):
        a = 0.1
        pred, focus, ramp = self._ramp(a, "x")
        got = losses.hv_loss(pred, torch.zeros_like(pred), focus)
        mse = float((ramp ** 2).sum()) / pred.numel()
        msge = (12 * a) ** 2 / 2  # channel 0 has gradient 12a on the focus, channel 1 has 0
        self.assertAlmostEqual(float(got), mse + msge, places=9)

    def test_horizontal_map_is_differentiated_along_x_only(self):
        a = 0.1
        pred, focus, ramp = self._ramp(a, "y")
        got = losses.hv_loss(pred, torch.zeros_like(pred), focus)
        self.assertAlmostEqual(float(got), float((ramp ** 2).sum()) / pred.numel(), places=9)

    def test_zero_for_a_perfect_prediction(self):
        t = torch.rand(2, 2, 16, 16)
        self.assertEqual(float(losses.hv_loss(t, t.clone(), torch.ones(2, 16, 16))), 0.0)


class TPLossTests(unittest.TestCase):
    def test_hand_computed_focal(self):
        # pixel 1: class 2 predicted with p 0.6; pixel 2: class 0 with p 0.9
        probs = torch.tensor([[0.3, 0.1, 0.6], [0.9, 0.05, 0.05]], dtype=torch.float64)
        logits = torch.log(probs).T.reshape(1, 3, 1, 2)
        got = losses.tp_loss(logits, torch.tensor([[[2, 0]]]))
        want = [-0.25 * (1 - p) ** 2 * math.log(p) for p in (0.6, 0.9)]
        self.assertAlmostEqual(float(got), sum(want) / 2, places=9)

    def test_total_is_the_sum(self):
        torch.manual_seed(0)
        out = {"np": torch.randn(1, 2, 8, 8), "hv": torch.randn(1, 2, 8, 8), "tp": torch.randn(1, 4, 8, 8)}
        tgt = {"np": (torch.rand(1, 8, 8) > 0.5).float(), "hv": torch.rand(1, 2, 8, 8) * 2 - 1,
               "tp": torch.randint(0, 4, (1, 8, 8))}
        total, parts = losses.total_loss(out, tgt)
        self.assertAlmostEqual(float(total), parts["np"] + parts["hv"] + parts["tp"], places=5)
        self.assertAlmostEqual(parts["tp"], float(losses.tp_loss(out["tp"], tgt["tp"])), places=6)


class TargetTests(unittest.TestCase):
    def test_hv_of_a_rectangle_follows_hovernet(self):
        inst = np.zeros((9, 11), np.int32)
        inst[3:6, 3:8] = 7  # 3 rows x 5 columns, centre of mass (4, 5)
        hv = targets.hv_map(inst)
        # HoVer-Net: 1-based range minus int(com + 0.5) -> offsets -1, 0, 1, 2, 3 along x,
        # then negatives / 1 and positives / 3; along y offsets -0, 1, 2 -> 0, 0.5, 1
        np.testing.assert_allclose(hv[0, 4, 3:8], [-1, 0, 1 / 3, 2 / 3, 1], atol=1e-6)
        np.testing.assert_allclose(hv[1, 3:6, 5], [0, 0.5, 1], atol=1e-6)
        self.assertTrue((hv[:, inst == 0] == 0).all())

    def test_every_nucleus_spans_minus_one_to_one(self):
        inst = np.zeros((40, 40), np.int32)
        yy, xx = np.mgrid[:40, :40]
        inst[(yy - 10) ** 2 + (xx - 12) ** 2 <= 25] = 1
        inst[(yy - 28) ** 2 + (xx - 25) ** 2 <= 49] = 2
        hv = targets.hv_map(inst)
        for i in (1, 2):
            for c in (0, 1):
                self.assertAlmostEqual(float(hv[c][inst == i].min()), -1.0, places=6)
                self.assertAlmostEqual(float(hv[c][inst == i].max()), 1.0, places=6)

    def test_split_disconnected(self):
        inst = np.zeros((10, 10), np.int32)
        inst[1:3, 1:3] = 5
        inst[6:9, 6:9] = 5
        inst[1:3, 6:8] = 2
        out = targets.split_disconnected(inst)
        self.assertEqual(len(np.unique(out)) - 1, 3)
        self.assertEqual(len(np.unique(out[inst == 5])), 2)

    def test_reduce_to_stride(self):
        full = {"np": np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]], bool),
                "tp": np.array([[2, 2, 3, 0], [3, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]),
                "hv": np.arange(32, dtype=np.float32).reshape(2, 4, 4)}
        out = targets.reduce_to_stride(full, 2)
        np.testing.assert_array_equal(out["np"], [[1, 0], [1, 0]])  # 3/4, 1/4; 4/4, 0
        np.testing.assert_array_equal(out["tp"], [[2, 0], [1, 0]])  # majority type where NP
        np.testing.assert_allclose(out["hv"][0], [[2.5, 4.5], [10.5, 12.5]])

    def test_make_targets_crop_and_stride(self):
        g = Geometry(270, 80, 2)
        inst = np.zeros((270, 270), np.int32)
        typ = np.zeros((270, 270), np.int32)
        inst[60:70, 100:110], typ[60:70, 100:110] = 1, 3  # inside the window [55, 215)
        inst[10:20, 10:20], typ[10:20, 10:20] = 2, 1  # outside it
        inst[213:225, 100:110], typ[213:225, 100:110] = 4, 2  # cut: 2 rows x 10 inside
        t = targets.make_targets(inst, typ, g)
        self.assertEqual(t["np"].shape, (80, 80))
        self.assertEqual(t["hv"].shape, (2, 80, 80))
        # nucleus 1 covers output rows (60-55)/2 .. (70-55)/2 and columns 22 .. 27
        self.assertTrue((t["np"][3:7, 23:27] == 1).all() and (t["tp"][3:7, 23:27] == 3).all())
        self.assertEqual(int((t["tp"] == 1).sum()), 0)  # nucleus 2 is outside the window
        # the cut nucleus keeps NP and TP, but has under 30 pixels in the window: no HV (HoVer-Net)
        self.assertTrue((t["np"][79, 23:27] == 1).all() and (t["tp"][79, 23:27] == 2).all())
        self.assertTrue((t["hv"][:, 79, :] == 0).all())
        self.assertLessEqual(float(np.abs(t["hv"]).max()), 1.0)

    def test_geometry_comes_from_the_model(self):
        g = Geometry.of(ref.build("micro", 6))
        self.assertEqual((g.input_size, g.output_size, g.stride, g.offset, g.window), (270, 80, 2, 55, 160))


class DataTests(unittest.TestCase):
    def test_reflect_matches_numpy(self):
        a = np.arange(5)
        np.testing.assert_array_equal(a[reflect_index(np.arange(-12, 17), 5)], np.pad(a, (12, 12), mode="reflect"))

    def test_cut_reads_only_its_own_image(self):
        a = np.arange(6 * 8).reshape(6, 8)
        patch = cut(a, 3, 4, 21)
        self.assertEqual(patch.shape, (21, 21))
        self.assertTrue(set(np.unique(patch)) <= set(a.ravel()))
        np.testing.assert_array_equal(patch[7:13, 6:14], a)  # centre - size // 2 = -7, -6


class SamplerTests(unittest.TestCase):
    def test_dominant_type(self):
        self.assertEqual(sampler.dominant_type([]), 0)
        self.assertEqual(sampler.dominant_type([3, 1, 3, 2]), 3)
        self.assertEqual(sampler.dominant_type([2, 1, 2, 1]), 1)  # tie -> smaller id

    def test_rates(self):
        self.assertEqual(sampler.parse_rates("2:3,5:10"), {2: 3.0, 5: 10.0})
        self.assertEqual(sampler.auto_rates([1] * 40 + [2] * 10 + [3] + [0] * 5), {1: 1.0, 2: 4.0, 3: 20.0})

    def test_sampling_follows_the_rates(self):
        class Fake:
            kinds = [[1]] * 50 + [[2]] * 50

            def __len__(self):
                return 100

            def nucleus_types(self, i):
                return self.kinds[i]

        s, info = sampler.type_aware_sampler(Fake(), {2: 4.0}, 20000, seed=1)
        share = sum(1 for i in s if i >= 50) / 20000
        self.assertAlmostEqual(share, 0.8, delta=0.02)  # 4 x 50 / (50 + 4 x 50)


def synthetic_split(root: Path, rng):
    """Three images with dark disks (nuclei of types 1 and 2) per split, as extract writes."""
    import cv2
    for split, h in (("train", 96), ("val", 48)):
        for sub in ("images", "instances", "types"):
            (root / split / sub).mkdir(parents=True)
        for k in range(2):
            image = np.full((h, 128, 3), (230, 180, 220), np.uint8)
            inst = np.zeros((h, 128), np.uint16)
            typ = np.zeros((h, 128), np.uint8)
            for i in range(1, 9):
                cy, cx = int(rng.integers(8, h - 8)), int(rng.integers(8, 120))
                cv2.circle(inst, (cx, cy), 5, i, -1)
            typ[inst > 0] = 1 + (inst[inst > 0] % 2)
            image[inst > 0] = (90, 40, 140)
            name = f"tile{k}.png"
            cv2.imwrite(str(root / split / "images" / name), image)
            cv2.imwrite(str(root / split / "instances" / name), inst)
            cv2.imwrite(str(root / split / "types" / name), typ)


class QuickRunTests(unittest.TestCase):
    def test_quick_run_trains_checkpoints_and_exports_a_loadable_state_dict(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            synthetic_split(tmp / "data", np.random.default_rng(0))
            run = subprocess.run(
                [sys.executable, str(HERE.parent / "train_histonext.py"), "--data", str(tmp / "data"),
                 "--out", str(tmp / "run"), "--variant", "micro", "--quick"],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            history = json.loads((tmp / "run" / "history.json").read_text())
            self.assertEqual(history["steps"], 2)
            rows = history["recipe"]["history"]
            self.assertTrue(all(math.isfinite(r["loss_total"]) for r in rows))
            self.assertIn("val_score", rows[-1])
            for name in ("best.pth", "last.pth"):
                state = torch.load(tmp / "run" / name, weights_only=True)
                model = ref.HistoNeXt("micro", 6)
                model.load_state_dict(state, strict=True)  # exactly the reference's names


if __name__ == "__main__":
    unittest.main()
