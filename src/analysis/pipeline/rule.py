"""The one rule that says whether a step of the pipeline is stale, and why (in the spirit of owid/etl's
``is_dirty``).

A step is stale when it is forced, when one of its outputs is missing, when a step it reads from is
stale, when there is no record of what it was made from, or when the fingerprint of one of its inputs
(a file's sha256, the code it runs, a fact such as the year) differs from the one recorded when it was
last made.  Data steps and reports alike are judged by :func:`why_stale`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

#: How a changed input is said, by its name in a fingerprint (other names are files: "<name> changed").
CHANGED = {
    "code": "the code it runs changed",
    "year": "a new year began (a target year may have passed)",
    "latest edition": "an edition was recorded since",
    "notebook": "its notebook changed",
    "task": "its plan entry changed",
    "data": "the data it reads changed",
}
#: At most this many changed inputs are named; the rest are counted.
NAMED_AT_MOST = 3


def describe_change(name: str, current: Mapping[str, str], recorded: Mapping[str, str]) -> str:
    """One input's change in words: ``data/curation.yml changed``, ``data/raw/x.csv added``, ``the code ... changed``.

    Parameters
    ----------
    name : str
        The input's name in the fingerprint.
    current, recorded : mapping of str to str
        The fingerprint now and the one recorded.
    """
    if name in CHANGED:
        return CHANGED[name]
    if name not in recorded:
        return f"{name} added"
    if name not in current:
        return f"{name} removed"
    return f"{name} changed"


def changed_inputs(current: Mapping[str, str], recorded: Mapping[str, str]) -> list[str]:
    """Names whose fingerprint differs between ``current`` and ``recorded`` (present in one only counts), sorted."""
    return sorted(name for name in set(current) | set(recorded) if current.get(name) != recorded.get(name))


def why_stale(
    current: Mapping[str, str],
    recorded: Mapping[str, str] | None,
    outputs: Iterable[Path] = (),
    force: bool = False,
    stale_upstream: Iterable[str] = (),
    missing_says: str = "not made yet",
    no_record_says: str = "no record of what it was made from",
    describe: Callable[[str, Mapping[str, str], Mapping[str, str]], str] = describe_change,
) -> str | None:
    """Why a step must run, or None when its outputs are up to date.

    Parameters
    ----------
    current : mapping of str to str
        Fingerprint of the step's inputs now (input name -> digest).
    recorded : mapping of str to str or None
        The fingerprint recorded when the step last ran successfully (None: none was).
    outputs : iterable of Path
        The files the step writes; one missing makes it stale.
    force : bool
        ``--force``: stale whatever the fingerprints say.
    stale_upstream : iterable of str
        Names of the steps it reads from that are stale themselves.
    missing_says, no_record_says : str
        What the reason says when an output is missing, or when there is no record.
    describe : callable
        Says one changed input in words (default :func:`describe_change`).

    Returns
    -------
    str or None
        The reason, in words, or None.
    """
    if force:
        return "--force"
    missing = [path.name for path in outputs if not path.exists()]
    if missing:
        return f"{missing_says}: {', '.join(missing)}" if missing_says == "not made yet" else missing_says
    upstream = list(stale_upstream)
    if upstream:
        return f"it reads the output of {', '.join(upstream)}, stale {'itself' if len(upstream) == 1 else 'themselves'}"
    if recorded is None:
        return no_record_says
    changed = changed_inputs(current, recorded)
    if not changed:
        return None
    said = list(dict.fromkeys(describe(name, current, recorded) for name in changed))
    more = len(said) - NAMED_AT_MOST
    return "; ".join(said[:NAMED_AT_MOST]) + (f" (and {more} more)" if more > 0 else "")
