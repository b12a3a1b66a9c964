"""Payload field checks shared by tasks: each failure is one ValueError that names the field."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def int_field(payload: dict[str, Any], name: str, lo: int, hi: int, default: Any = _MISSING) -> int:
    """``payload[name]`` as an int in [lo, hi] (bools and floats with a fraction are refused)."""
    value = payload.get(name, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ValueError(f"payload field {name!r} is required (an integer between {lo} and {hi})")
        return default
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        value, ok = int(value), True
    if not ok or not lo <= value <= hi:
        raise ValueError(f"payload field {name!r} must be an integer between {lo} and {hi}, got {value!r}")
    return value


def float_field(payload: dict[str, Any], name: str, lo: float, hi: float, default: Any = _MISSING) -> float:
    """``payload[name]`` as a float in [lo, hi]."""
    value = payload.get(name, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ValueError(f"payload field {name!r} is required (a number between {lo:g} and {hi:g})")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"payload field {name!r} must be a number between {lo:g} and {hi:g}, got {value!r}")
    return float(value)


def choice_field(payload: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    """``payload[name]`` as one of ``choices``."""
    value = payload.get(name, default)
    if value not in choices:
        raise ValueError(f"payload field {name!r} must be one of {', '.join(choices)}, got {value!r}")
    return value


def bool_field(payload: dict[str, Any], name: str, default: bool = False) -> bool:
    """``payload[name]`` as a JSON boolean."""
    value = payload.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"payload field {name!r} must be true or false, got {value!r}")
    return value
