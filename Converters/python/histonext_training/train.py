"""The training loop (paper "Training strategy", "Training monitoring"; Spec/TRAINING.md §5).

Two phases, each with its own Adam(0.9, 0.999) at lr 1e-4 and step decay x0.1 every 25 epochs:
phase 1 trains with the encoder frozen, phase 2 end to end. Every `eval_every` epochs the
model segments the validation images as `nx segment` would and the paper's Score (eq. 12) is
computed; the best model is kept, checkpoints are written every 5 epochs, and training stops
when the Score has not improved for `patience` epochs. An epoch is `samples_per_epoch`
patches drawn by the type-aware sampler.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

import histonext_reference as ref

from . import inference, scoring
from .augment import FullAugmentation
from .data import PatchDataset, load_split
from .geometry import Geometry
from .losses import GAMMA_POS, total_loss
from .sampler import parse_rates, type_aware_sampler


@dataclass
class Recipe:
    data: str
    out: str
    variant: str = "atto"
    num_types: int = 6
    phase1_epochs: int = 3
    phase2_epochs: int = 100
    samples_per_epoch: int = 256
    batch_size: int = 8
    lr: float = 1e-4
    betas: tuple = (0.9, 0.999)
    decay_every: int = 25
    decay_factor: float = 0.1
    checkpoint_every: int = 5
    eval_every: int = 5
    patience: int = 20
    gamma_pos: float = GAMMA_POS
    type_rates: str = "auto"
    threads: int = 1
    seed: int = 0
    max_minutes: float = 0.0  # 0: no wall-clock limit
    max_steps: int = 0  # 0: no limit (--quick sets a few)
    encoder_weights: str = ""
    history: list = field(default_factory=list)


def set_seed(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_encoder(model, path: str):
    """A timm ConvNeXt state dict (head.* dropped) into model.encoder, strictly."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("model", state)
    state = {k: v for k, v in state.items() if not k.startswith("head.")}
    model.encoder.load_state_dict(state, strict=True)


def evaluate(model, images, geometry) -> dict:
    model.eval()
    pairs = []
    for im in images:
        inst, _, records = inference.segment(model, im.image, geometry)
        pairs.append((im.instances, im.types, inst, records))
    return scoring.score(pairs)


def run(recipe: Recipe, log=print) -> dict:
    set_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    out = Path(recipe.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    data = Path(recipe.data)
    train_images, val_images = load_split(data / "train"), load_split(data / "val")

    model = ref.HistoNeXt(recipe.variant, recipe.num_types)
    if recipe.encoder_weights:
        load_encoder(model, recipe.encoder_weights)
    geometry = Geometry.of(model)
    dataset = PatchDataset(train_images, geometry, augment=FullAugmentation(), seed=recipe.seed)
    sampler, info = type_aware_sampler(dataset, parse_rates(recipe.type_rates), recipe.samples_per_epoch, recipe.seed)
    log(f"{len(dataset)} candidate patches from {len(train_images)} training images; dominant types "
        f"{info['dominant_counts']}; rates {info['rates']}")
    loader = torch.utils.data.DataLoader(dataset, batch_size=recipe.batch_size, sampler=sampler, num_workers=0)

    start = time.time()
    best = {"score": -math.inf, "epoch": 0}
    epoch = step = 0
    stop = False
    for phase, epochs in ((1, recipe.phase1_epochs), (2, recipe.phase2_epochs)):
        for p in model.encoder.parameters():
            p.requires_grad = phase == 2
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=recipe.lr, betas=recipe.betas)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=recipe.decay_every, gamma=recipe.decay_factor)
        for phase_epoch in range(1, epochs + 1):
            epoch += 1
            model.train()
            if phase == 1:
                model.encoder.eval()  # frozen: its norms' statistics stay as loaded
            sums, n = {"total": 0.0, "np": 0.0, "hv": 0.0, "tp": 0.0}, 0
            for x, targets in loader:
                loss, parts = total_loss(model(x), targets, gamma_pos=recipe.gamma_pos)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
                n += 1
                sums["total"] += float(loss.detach())
                for k, v in parts.items():
                    sums[k] += v
                if recipe.max_steps and step >= recipe.max_steps:
                    break
            sched.step()
            row = {"epoch": epoch, "phase": phase, "steps": step, "lr": opt.param_groups[0]["lr"],
                   "minutes": round((time.time() - start) / 60, 2), **{f"loss_{k}": v / max(n, 1) for k, v in sums.items()}}
            out_of_time = recipe.max_minutes and (time.time() - start) / 60 >= recipe.max_minutes
            last = stop or out_of_time or (recipe.max_steps and step >= recipe.max_steps) or (
                phase == 2 and phase_epoch == epochs)
            if epoch % recipe.eval_every == 0 or last:
                val = evaluate(model, val_images, geometry)
                row.update({f"val_{k}": val[k] for k in ("score", "aji", "dice", "pq", "mean_type_f1")})
                if val["score"] > best["score"]:
                    best = {"score": val["score"], "epoch": epoch}
                    torch.save(model.state_dict(), out / "best.pth")
                elif epoch - best["epoch"] >= recipe.patience:
                    stop = True
            if epoch % recipe.checkpoint_every == 0:
                torch.save(model.state_dict(), out / "checkpoints" / f"epoch{epoch:03d}.pth")
            recipe.history.append(row)
            log(json.dumps(row))
            (out / "history.json").write_text(json.dumps({"recipe": asdict(recipe), "best": best}, indent=1))
            if stop or out_of_time or (recipe.max_steps and step >= recipe.max_steps):
                stop = True
                break
        if stop:
            break
    torch.save(model.state_dict(), out / "last.pth")
    summary = {"best": best, "epochs": epoch, "steps": step, "minutes": round((time.time() - start) / 60, 2)}
    (out / "history.json").write_text(json.dumps({"recipe": asdict(recipe), **summary}, indent=1))
    log(f"done: {json.dumps(summary)}")
    return summary
