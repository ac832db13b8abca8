"""Where the model's output lands on its input, read from the model definition (the reference's
constants and config), never restated here: an `input_size` square gives an `output_size`
square at `stride`, covering the centred `window` = output_size * stride input pixels."""

from __future__ import annotations

from dataclasses import dataclass

import histonext_reference as ref


@dataclass(frozen=True)
class Geometry:
    input_size: int
    output_size: int
    stride: int

    @property
    def window(self) -> int:
        return self.output_size * self.stride

    @property
    def offset(self) -> int:
        return (self.input_size - self.window) // 2

    @staticmethod
    def of(model: ref.HistoNeXt) -> "Geometry":
        g = Geometry(model.cfg.input_size, model.cfg.output_size, ref.OUTPUT_STRIDE)
        # the reference's own statement of the window must agree (Spec/HISTONEXT.md §5)
        assert g.offset == ref.OUTPUT_OFFSET and (g.input_size - g.window) % 2 == 0, g
        return g
