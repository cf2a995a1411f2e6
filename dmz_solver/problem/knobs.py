"""The seed's search-space knobs: thresholds and switches that narrow the mapping space."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..specio import Fields


@dataclass(frozen=True)
class Knobs:
    """The seed's search-space reduction knobs (docs/cost-model.md §8); the defaults prune nothing.

    Like a constraint file, a knob defines the space a search covers: a result proven optimal under knobs is
    OPTIMAL over the mappings they allow. `min_exec_methods` narrows nothing: a layer with fewer valid tilings
    is not optimised at all (the seed's rule).
    """

    pe_util: float = 0.0
    rf_util: float = 0.0
    spm_util: float = 0.0
    no_feature_dram: bool = False
    no_spatial_reduction: bool = False
    min_exec_methods: int = 1

    def restrictions(self) -> tuple[str, ...]:
        """The knobs that are set, in words (empty for the defaults)."""
        parts = []
        if (self.pe_util, self.rf_util, self.spm_util) != (0, 0, 0):
            parts.append(f"min utilisation PE {self.pe_util:g} RF {self.rf_util:g} SPM {self.spm_util:g}")
        if self.no_feature_dram:
            parts.append("no feature DRAM tiling")
        if self.no_spatial_reduction:
            parts.append("no spatial reduction")
        if self.min_exec_methods > 1:
            parts.append(f"min {self.min_exec_methods} execution methods")
        return tuple(parts)

    def to_json(self) -> dict:
        """Every knob by its field name (the result JSON's `inputs.knobs`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, obj: object, *, source: str, field: str = "knobs") -> Knobs:
        """Read `to_json`'s object back; a missing knob takes its default, an unknown one is an error."""
        given = Fields(obj, source, field)
        given.reject_unknown({f.name for f in fields(cls)})
        default = cls()
        utils = [
            given.number(name, getattr(default, name), positive=False) for name in ("pe_util", "rf_util", "spm_util")
        ]
        for name, value in zip(("pe_util", "rf_util", "spm_util"), utils, strict=True):
            if value > 1:
                raise given.error(name, f"must be a fraction between 0 and 1, got {value}")
        return cls(
            *utils,
            no_feature_dram=given.boolean("no_feature_dram", False),
            no_spatial_reduction=given.boolean("no_spatial_reduction", False),
            min_exec_methods=given.integer("min_exec_methods", 1),
        )
