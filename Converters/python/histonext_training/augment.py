"""The paper's "Full" augmentation ("Data preprocessing and enhancement"), with albumentations
(the paper's imgaug no longer works with current numpy).

Shape transforms move the image and both maps together; maps are resampled nearest-neighbour
so labels stay labels. Intensity transforms touch the image only. Ranges and probabilities
are the paper's; where albumentations has no exact equivalent the note says what we used.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

ELASTIC_ALPHAS = (5.0, 10.0, 15.0, 20.0)  # paper: alpha uniform in 0-20; a OneOf over a grid


def shape_transforms() -> A.Compose:
    return A.Compose([
        # (1) scale 0.9-1.1, rotation +-90 deg, shear +-5 deg; reflect at the border
        A.Affine(scale=(0.9, 1.1), rotate=(-90, 90), shear=(-5, 5), interpolation=cv2.INTER_LINEAR,
                 mask_interpolation=cv2.INTER_NEAREST, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
        # (2) elastic p=0.3, sigma 5
        A.OneOf([A.ElasticTransform(alpha=a, sigma=5.0, interpolation=cv2.INTER_LINEAR,
                                    mask_interpolation=cv2.INTER_NEAREST,
                                    border_mode=cv2.BORDER_REFLECT_101, p=1.0)
                 for a in ELASTIC_ALPHAS], p=0.3),
        # (3) flips, 0.5 each
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
    ])


def intensity_transforms() -> A.Compose:
    return A.Compose([
        # (1) H and E channels (Ruifrok's H&E stain matrix) scaled 0.95-1.05 and shifted by
        # +-8/255 each, independently, p=0.8. The shift acts on stain concentration.
        A.HEStain(method="preset", preset="ruifrok", intensity_scale_range=(0.95, 1.05),
                  intensity_shift_range=(-8 / 255, 8 / 255), p=0.8),
        # (2) blur (sigma 0-0.5) or additive Gaussian noise (0-0.025 x 255), p=0.3
        A.OneOf([A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(1e-3, 0.5), p=1.0),
                 A.GaussNoise(std_range=(0.0, 0.025), p=1.0)], p=0.3),
        # (3) local contrast, p=0.4: CLAHE on all channels (clip 1-2), gamma 0.9-1.1, sharpen 0-0.2
        A.Sequential([A.CLAHE(clip_limit=(1, 2), p=1.0),
                      A.RandomGamma(gamma_limit=(90, 110), p=1.0),
                      A.Sharpen(alpha=(0.0, 0.2), lightness=(1.0, 1.0), p=1.0)], p=0.4),
    ])


class FullAugmentation:
    """image uint8 [H, W, 3], instances int32 [H, W], types int32 [H, W] -> same, augmented."""

    def __init__(self):
        self.shape = shape_transforms()
        self.intensity = intensity_transforms()

    def __call__(self, image, instances, types):
        out = self.shape(image=image, masks=[instances, types])
        image = self.intensity(image=out["image"])["image"]
        inst, typ = out["masks"]
        return image, np.asarray(inst, dtype=np.int32), np.asarray(typ, dtype=np.int32)
