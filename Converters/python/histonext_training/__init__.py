"""The HistoNeXt training recipe (Spec/TRAINING.md): targets, losses, augmentation, the
type-aware sampler, tiled inference as `nx segment` does it, scoring, and the training loop.

Entry point: Converters/python/train_histonext.py. Needs torch, timm, albumentations, scipy,
scikit-image and opencv (never the CI venv: CI stays torch-free)."""
