"""The registry: the controlled vocabulary of indicators, places and estimator families.

Three data files in ``data/registry/`` (``indicators.yml``, ``places.yml``, ``estimators.yml``)
say which indicators exist (unit, bounds, names in both languages), which places exist and how
their borders changed, and how a methodology text names its estimator family.  Cleaning, intake
and the reports share them, so that a misspelt indicator id is an error, not a vanished figure.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis import config
from analysis.data.units import CANONICAL_UNITS
from analysis.errors import RegistryError
from analysis.storage import parse_yaml


@dataclass(frozen=True)
class Indicator:
    """One indicator: canonical units (first = usual), bounds of any value, names and description per language."""

    id: str
    units: tuple[str, ...]
    lower: float | None
    upper: float | None
    estimator_families: bool
    name: dict[str, str]
    description: dict[str, str]
    denominator: str | None = None


@dataclass(frozen=True)
class Place:
    """One place: the names raw files use for it, its level, and the merger that split its series (if any)."""

    id: str
    aliases: tuple[str, ...]
    level: str
    name: dict[str, str]
    merger_date: str | None = None
    merged_with: tuple[str, ...] = ()
    merged_into: str | None = None

    @property
    def pre_boundary(self) -> str:
        """Boundary id of the place before its merger (the place id when it never merged)."""
        return f"{self.id}-pre-{self.merger_date[:7]}" if self.merger_date else self.id

    @property
    def merged_boundary(self) -> str:
        """Boundary id of the place after its merger (the place id when it never merged)."""
        return f"{self.id}-merged-{self.merger_date[:7]}" if self.merger_date else self.id


@dataclass(frozen=True)
class EstimatorFamily:
    """An estimator family: whole-word patterns that name it, and phrases that name its series explicitly.

    ``independent`` is True for a producer of official statistics (the statistics office) that does
    not answer for the targets it measures; a figure of any other family is the government's own report.
    ``name`` is the family's name per language; ``colour`` (hex) and ``marker`` (matplotlib) draw its points.
    An id of ``without_family`` (unknown, reported, none) is an entry with no patterns.
    """

    id: str
    patterns: tuple[str, ...]
    series: tuple[str, ...] = ()
    independent: bool = False
    name: dict[str, str] = field(default_factory=dict)
    colour: str = "#444444"
    marker: str = "o"


@dataclass(frozen=True)
class Registry:
    """Indicators, places and estimator families, by id."""

    indicators: dict[str, Indicator]
    places: dict[str, Place]
    estimators: dict[str, EstimatorFamily]
    negations: tuple[str, ...] = ()
    _aliases: dict[str, str] = field(default_factory=dict)
    without_family: dict[str, EstimatorFamily] = field(default_factory=dict)

    def indicator(self, indicator_id: str) -> Indicator | None:
        """The indicator, or None when the id is unknown."""
        return self.indicators.get(indicator_id)

    def nearest_indicators(self, indicator_id: str, count: int = 3) -> list[str]:
        """Known ids closest to a misspelt one (case-insensitive), best first."""
        return nearest(indicator_id, self.indicators, count)

    def place_for(self, alias: str) -> Place | None:
        """The place a raw geography names, in either language, with or without diacritics, or None.

        "HCMC", "TP.HCM", "Thành phố Hồ Chí Minh", "Hà Nội" and "ha noi" all name a place: the text is
        compared with every alias and name of the registry as :func:`place_key` folds them.
        """
        return self.places.get(self._aliases.get(place_key(alias), ""))

    def nearest_places(self, alias: str, count: int = 2) -> list[str]:
        """Names of the places closest to an unknown one ("Ha Noii" -> "Hà Nội (Hanoi)"), best first."""
        close = difflib.get_close_matches(place_key(alias), list(self._aliases), n=count * 3, cutoff=0.75)
        ids = list(dict.fromkeys(self._aliases[key] for key in close))[:count]
        return [f"{self.places[i].name['vi']} ({self.places[i].name['en']})" for i in ids]

    def boundary_ids(self) -> set[str]:
        """Every boundary id a processed row can carry."""
        return {b for place in self.places.values() for b in (place.pre_boundary, place.merged_boundary)}

    def place_of_boundary(self, boundary: str) -> Place | None:
        """The place whose pre- or post-merger boundary this is."""
        return next((p for p in self.places.values() if boundary in (p.pre_boundary, p.merged_boundary)), None)

    def geography_of(self, boundary: str) -> str:
        """The place id a boundary's rows carry as ``geography`` (``hcmc`` for both Ho Chi Minh City boundaries);
        a boundary no place has is its own id."""
        place = self.place_of_boundary(boundary)
        return place.id if place else boundary

    def successor(self, boundary: str) -> str | None:
        """The merged boundary that continues a pre-merger boundary (None for any other boundary)."""
        place = self.place_of_boundary(boundary)
        if place and place.merger_date and boundary == place.pre_boundary:
            return place.merged_boundary
        return None

    def predecessor(self, boundary: str) -> str | None:
        """The pre-merger boundary a merged boundary continues (None for any other boundary)."""
        place = self.place_of_boundary(boundary)
        if place and place.merger_date and boundary == place.merged_boundary:
            return place.pre_boundary
        return None

    def boundary_ended(self, boundary: str, year: int) -> bool:
        """True when a pre-merger boundary no longer existed for the whole of ``year`` (the merger year or later)."""
        place = self.place_of_boundary(boundary)
        return bool(self.successor(boundary)) and year >= int(place.merger_date[:4])

    def estimator(self, estimator_id: str) -> EstimatorFamily | None:
        """The family, or the entry of an id without family (unknown, reported, none); None for any other id."""
        return self.estimators.get(estimator_id) or self.without_family.get(estimator_id)

    def estimator_ids(self) -> tuple[str, ...]:
        """Every estimator a processed figure can carry: the families, then 'unknown' and 'reported'."""
        return (*self.estimators, *(i for i in self.without_family if i != "none"))

    def is_independent(self, estimator: str) -> bool:
        """True for an estimator family of official statistics (``independent: true`` in estimators.yml)."""
        family = self.estimators.get(estimator)
        return bool(family and family.independent)


def nearest(value: str, known, count: int = 1, cutoff: float = 0.6) -> list[str]:
    """The known values closest to a misspelt one (case-insensitive), best first."""
    lowered = {str(key).lower(): key for key in known}
    return [lowered[key] for key in difflib.get_close_matches(value.lower(), list(lowered), n=count, cutoff=cutoff)]


def _pair(value, where: str, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value.get(lang) for lang in ("vi", "en")
    ):
        raise RegistryError(f"{where}: '{key}' needs a text in vi and en, got {value!r}")
    return {"vi": value["vi"], "en": value["en"]}


def _read(path: Path) -> dict:
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: the registry file is missing") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise RegistryError(f"{path}: expected a mapping")
    return document


def _section(document: dict, name: str, source: str) -> dict:
    """The non-empty mapping under ``name`` (indicators, places, estimators) of a registry file."""
    entries = document.get(name)
    if not isinstance(entries, dict) or not entries:
        raise RegistryError(f"{source}: expected a mapping under '{name}'")
    return entries


def _words(entry, key: str, where: str, purpose: str) -> tuple[str, ...]:
    """A non-empty list of lower-cased words (a place's aliases, a family's patterns)."""
    words = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(words, list) or not words:
        raise RegistryError(f"{where}: '{key}' should list {purpose}")
    return tuple(str(word).lower() for word in words)


def parse_indicators(document: dict, source: str = "indicators.yml") -> dict[str, Indicator]:
    """Check and build the indicators of a parsed ``indicators.yml``.

    Raises
    ------
    RegistryError
        Naming the file and the indicator of the first mistake.
    """
    entries = _section(document, "indicators", source)
    out = {}
    for key, entry in entries.items():
        where = f"{source}: {key}"
        if not re.fullmatch(r"[A-Za-z0-9_]+", str(key)) or not isinstance(entry, dict):
            raise RegistryError(
                f"{where}: an indicator is a snake_case id with a mapping of units, bounds, name, description"
            )
        units = entry.get("units")
        if not isinstance(units, list) or not units or any(unit not in CANONICAL_UNITS for unit in units):
            raise RegistryError(
                f"{where}: 'units' should list canonical units ({', '.join(CANONICAL_UNITS)}), got {units!r}"
            )
        bounds = entry.get("bounds")
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(b is None or isinstance(b, int | float) for b in bounds)
        ):
            raise RegistryError(f"{where}: 'bounds' should be [low, high] (null for open), got {bounds!r}")
        out[str(key)] = Indicator(
            str(key),
            tuple(units),
            bounds[0],
            bounds[1],
            bool(entry.get("estimator_families", False)),
            _pair(entry.get("name"), where, "name"),
            _pair(entry.get("description"), where, "description"),
            entry.get("denominator"),
        )
    unknown = {i.denominator for i in out.values() if i.denominator and i.denominator not in out}
    if unknown:
        raise RegistryError(f"{source}: denominator(s) {', '.join(sorted(unknown))} are not indicators of the registry")
    return out


def parse_places(document: dict, source: str = "places.yml") -> dict[str, Place]:
    """Check and build the places of a parsed ``places.yml``."""
    entries = _section(document, "places", source)
    out = {}
    for key, entry in entries.items():
        where = f"{source}: {key}"
        aliases = _words(entry, "aliases", where, "the names raw files use")
        if entry.get("level") not in ("national", "city", "province"):
            raise RegistryError(f"{where}: 'level' should be national, city or province")
        merger = entry.get("merger") or {}
        date = str(merger["date"]) if merger.get("date") else None
        if date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise RegistryError(f"{where}: merger date should be YYYY-MM-DD, got {date!r}")
        out[str(key)] = Place(
            str(key),
            aliases,
            entry["level"],
            _pair(entry.get("name"), where, "name"),
            date,
            tuple(merger.get("with") or ()),
            entry.get("merged_into"),
        )
    return out


#: The ids the cleaning and the models give a figure no family applies to (``without_family`` in estimators.yml).
WITHOUT_FAMILY = ("unknown", "reported", "none")
#: Marker codes a family may draw with (matplotlib's filled and line markers that print in black and white).
CHART_MARKERS = ("o", "s", "D", "d", "^", "v", "<", ">", "p", "h", "P", "X", "*", "x", "+")


def _estimator_style(entry: dict, where: str) -> tuple[dict[str, str], str, str]:
    """An estimator entry's name (vi, en) and its chart colour and marker."""
    chart = entry.get("chart")
    if not isinstance(chart, dict):
        raise RegistryError(f"{where}: 'chart' needs a colour (#rrggbb) and a marker, got {chart!r}")
    colour, marker = str(chart.get("colour", "")), str(chart.get("marker", ""))
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise RegistryError(f"{where}: chart colour should be #rrggbb, got {colour!r}")
    if marker not in CHART_MARKERS:
        raise RegistryError(f"{where}: chart marker should be one of {' '.join(CHART_MARKERS)}, got {marker!r}")
    return _pair(entry.get("name"), where, "name"), colour, marker


def parse_estimators(
    document: dict, source: str = "estimators.yml"
) -> tuple[dict[str, EstimatorFamily], tuple[str, ...], dict[str, EstimatorFamily]]:
    """Check and build the estimator families, the negation words and the ids without family of a parsed
    ``estimators.yml``.

    Raises
    ------
    RegistryError
        Naming the file and the entry of the first mistake, or the id without family that is missing.
    """
    entries = _section(document, "estimators", source)
    out = {}
    for key, entry in entries.items():
        where = f"{source}: {key}"
        if not re.fullmatch(r"[a-z0-9_]+", str(key)) or str(key) in WITHOUT_FAMILY:
            reserved = ", ".join(WITHOUT_FAMILY)
            raise RegistryError(f"{where}: a family id is lower-case snake_case, not one of {reserved}")
        patterns = _words(entry, "patterns", where, "the words that name the family")
        series = tuple(str(p).lower() for p in entry.get("series") or ())
        independent = entry.get("independent", False)
        if not isinstance(independent, bool):
            raise RegistryError(f"{where}: 'independent' should be true or false, got {independent!r}")
        out[str(key)] = EstimatorFamily(str(key), patterns, series, independent, *_estimator_style(entry, where))
    fallbacks = _section(document, "without_family", source)
    missing = [i for i in WITHOUT_FAMILY if i not in fallbacks]
    extra = [str(i) for i in fallbacks if i not in WITHOUT_FAMILY]
    if missing or extra:
        raise RegistryError(
            f"{source}: 'without_family' should have exactly {', '.join(WITHOUT_FAMILY)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)} (a family goes under 'estimators')" if extra else "")
        )
    without = {
        i: EstimatorFamily(i, (), (), False, *_estimator_style(fallbacks[i], f"{source}: without_family.{i}"))
        for i in WITHOUT_FAMILY
    }
    return out, tuple(str(w).lower() for w in document.get("negations") or ()), without


#: Words that say what kind of place a name is ("Thành phố Hồ Chí Minh", "Da Nang city"): not part of the name.
_PLACE_WORDS = re.compile(r"^(?:thanh pho|tp|tinh|city of|province of) | (?:city|province)$")


def place_key(name: str) -> str:
    """A place name folded for comparison: no diacritics (đ -> d), lower case, punctuation as spaces,
    without the words "thành phố", "TP", "tỉnh", "city", "province" around it ("TP.HCM" -> "hcm")."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = " ".join(re.findall(r"[a-z0-9]+", plain))
    return _PLACE_WORDS.sub("", words).strip() or words


def _place_keys(places: dict[str, Place]) -> dict[str, str]:
    """Every folded alias and name (both languages) -> place id."""
    keys = {}
    for place in places.values():
        for name in (*place.aliases, *place.name.values()):
            keys.setdefault(place_key(name), place.id)
    return keys


@functools.cache
def _load(directory: str, stamp: tuple) -> Registry:
    folder = Path(directory)
    indicators = parse_indicators(_read(folder / "indicators.yml"))
    places = parse_places(_read(folder / "places.yml"))
    estimators, negations, without_family = parse_estimators(_read(folder / "estimators.yml"))
    return Registry(indicators, places, estimators, negations, _place_keys(places), without_family)


def registry_files(directory: Path | None = None) -> list[Path]:
    """The registry's data files."""
    folder = directory or config.registry_dir()
    return [folder / name for name in ("indicators.yml", "places.yml", "estimators.yml")]


def load_registry(directory: Path | None = None) -> Registry:
    """The registry in ``data/registry/`` (re-read when a file changes).

    Raises
    ------
    RegistryError
        When a registry file is missing, not YAML, or has an invalid entry.
    """
    folder = directory or config.registry_dir()
    stamp = tuple(path.stat().st_mtime_ns if path.exists() else 0 for path in registry_files(folder))
    return _load(str(folder.resolve()), stamp)


def indicator_name(indicator_id: str, lang: str) -> str:
    """The indicator's short name in ``lang`` (the id itself only for an indicator the registry lacks)."""
    entry = load_registry().indicator(indicator_id)
    return entry.name[lang] if entry else indicator_id


def estimator_name(estimator_id: str, lang: str) -> str:
    """The estimator family's name in ``lang`` (the id itself only for an id the registry lacks)."""
    entry = load_registry().estimator(estimator_id)
    return entry.name[lang] if entry else estimator_id
