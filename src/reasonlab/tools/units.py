"""Unit conversion: length, mass, time, volume, area, speed, data, energy, and temperature."""

from __future__ import annotations

from fractions import Fraction

from .calculator import format_value
from .registry import ToolError, tool

F = Fraction
# Each unit: (dimension, factor to the dimension's base unit). Exact factors as fractions.
_TABLE: dict[str, tuple[str, Fraction]] = {}


def _add(dimension: str, factor: Fraction | int | str, *names: str) -> None:
    for n in names:
        _TABLE[n] = (dimension, F(factor))


# length (metre)
_add("length", 1, "m", "meter", "meters", "metre", "metres")
_add("length", F(1, 1000), "mm", "millimeter", "millimeters", "millimetre", "millimetres")
_add("length", F(1, 100), "cm", "centimeter", "centimeters", "centimetre", "centimetres")
_add("length", 1000, "km", "kilometer", "kilometers", "kilometre", "kilometres")
_add("length", F("0.0254"), "in", "inch", "inches")
_add("length", F("0.3048"), "ft", "foot", "feet")
_add("length", F("0.9144"), "yd", "yard", "yards")
_add("length", F("1609.344"), "mi", "mile", "miles")
_add("length", 1852, "nmi", "nautical mile", "nautical miles")
# mass (kilogram)
_add("mass", 1, "kg", "kilogram", "kilograms", "kilo", "kilos")
_add("mass", F(1, 1000), "g", "gram", "grams")
_add("mass", F(1, 10 ** 6), "mg", "milligram", "milligrams")
_add("mass", 1000, "t", "tonne", "tonnes", "metric ton", "metric tons")
_add("mass", F("0.45359237"), "lb", "lbs", "pound", "pounds")
_add("mass", F("0.45359237") / 16, "oz", "ounce", "ounces")
# time (second)
_add("time", 1, "s", "sec", "second", "seconds")
_add("time", F(1, 1000), "ms", "millisecond", "milliseconds")
_add("time", 60, "min", "minute", "minutes")
_add("time", 3600, "h", "hr", "hour", "hours")
_add("time", 86400, "d", "day", "days")
_add("time", 7 * 86400, "wk", "week", "weeks")
_add("time", 365 * 86400, "yr", "year", "years")
# volume (litre)
_add("volume", 1, "l", "liter", "liters", "litre", "litres")
_add("volume", F(1, 1000), "ml", "milliliter", "milliliters", "millilitre", "millilitres")
_add("volume", 1000, "m3", "cubic meter", "cubic meters")
_add("volume", F("3.785411784"), "gal", "gallon", "gallons")
_add("volume", F("3.785411784") / 4, "qt", "quart", "quarts")
_add("volume", F("3.785411784") / 8, "pt", "pint", "pints")
_add("volume", F("3.785411784") / 16, "cup", "cups")
_add("volume", F("3.785411784") / 128, "floz", "fl oz", "fluid ounce", "fluid ounces")
# area (square metre)
_add("area", 1, "m2", "sq m", "square meter", "square meters", "square metre", "square metres")
_add("area", 10 ** 6, "km2", "sq km", "square kilometer", "square kilometers")
_add("area", F("0.09290304"), "ft2", "sq ft", "square foot", "square feet")
_add("area", 10000, "ha", "hectare", "hectares")
_add("area", F("4046.8564224"), "acre", "acres")
# speed (metre per second)
_add("speed", 1, "m/s", "mps")
_add("speed", F(1000, 3600), "km/h", "kph", "kmh")
_add("speed", F("1609.344") / 3600, "mph", "mi/h")
_add("speed", F(1852, 3600), "kn", "knot", "knots")
# data (byte)
_add("data", 1, "b", "byte", "bytes")
_add("data", F(1, 8), "bit", "bits")
for _i, _p in enumerate(("k", "m", "g", "t"), start=1):
    _add("data", 1000 ** _i, f"{_p}b")
    _add("data", 1024 ** _i, f"{_p}ib")
# energy (joule)
_add("energy", 1, "j", "joule", "joules")
_add("energy", 1000, "kj", "kilojoule", "kilojoules")
_add("energy", F("4.184"), "cal", "calorie", "calories")
_add("energy", F("4184"), "kcal", "kilocalorie", "kilocalories")
_add("energy", 3600 * 1000, "kwh", "kilowatt hour", "kilowatt hours")

_TEMPS = {"c": "C", "celsius": "C", "°c": "C", "f": "F", "fahrenheit": "F", "°f": "F", "k": "K", "kelvin": "K"}


def _key(unit: str) -> str:
    return " ".join(str(unit).strip().lower().replace("²", "2").replace("³", "3").split())


def _to_kelvin(v: Fraction, u: str) -> Fraction:
    return v + F("273.15") if u == "C" else (v - 32) * F(5, 9) + F("273.15") if u == "F" else v


def _from_kelvin(v: Fraction, u: str) -> Fraction:
    return v - F("273.15") if u == "C" else (v - F("273.15")) * F(9, 5) + 32 if u == "F" else v


def convert(value: float | str, from_unit: str, to_unit: str) -> Fraction:
    """Exact conversion of `value` between two units of the same dimension."""
    try:
        v = F(str(value))
    except (ValueError, ZeroDivisionError):
        raise ToolError(f"not a number: {value!r}") from None
    a, b = _key(from_unit), _key(to_unit)
    if a in _TEMPS or b in _TEMPS:
        if a not in _TEMPS or b not in _TEMPS:
            raise ToolError(f"cannot convert {from_unit} to {to_unit}")
        return _from_kelvin(_to_kelvin(v, _TEMPS[a]), _TEMPS[b])
    if a not in _TABLE or b not in _TABLE:
        unknown = from_unit if a not in _TABLE else to_unit
        raise ToolError(f"unknown unit {unknown!r}")
    (da, fa), (db, fb) = _TABLE[a], _TABLE[b]
    if da != db:
        raise ToolError(f"cannot convert {da} ({from_unit}) to {db} ({to_unit})")
    return v * fa / fb


@tool(name="convert_units")
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity between units of length, mass, time, volume, area, speed, data, energy or temperature (C, F, K), e.g. 5 km to mi."""
    return format_value(convert(value, from_unit, to_unit))
