"""Registry of the rating-distribution families."""

from __future__ import annotations

from .base import Family
from .gsd import GSD
from .maxent import MaxEnt
from .quantized import Beta, Kumaraswamy, Logistic, LogitLogistic, Normal, QuantizedFamily

_CLASSES: dict[str, type[Family]] = {
    cls.name: cls for cls in (Normal, Logistic, Beta, Kumaraswamy, LogitLogistic, MaxEnt, GSD)
}

#: Names of all families, in the order of the reference study's tables.
FAMILIES: tuple[str, ...] = tuple(_CLASSES)


def family(name: str | Family, **options) -> Family:
    """Look up a family by name (``rd.family("logit-logistic")``).

    Parameters
    ----------
    name : one of :data:`FAMILIES`, or a Family instance (returned as it is).
    **options : passed to the family, e.g. ``thresholds=[...]`` for a quantized family.

    Examples
    --------
    >>> import ratingdist as rd
    >>> rd.family("normal").pmf([3.0, 1.0]).round(3).tolist()
    [0.067, 0.242, 0.383, 0.242, 0.067]
    """
    if isinstance(name, Family):
        if options:
            raise ValueError("options apply only when a family is given by name")
        return name
    try:
        cls = _CLASSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown family {name!r}; choose one of {', '.join(FAMILIES)}") from None
    return cls(**options)


__all__ = ["FAMILIES", "Family", "QuantizedFamily", "family"]
