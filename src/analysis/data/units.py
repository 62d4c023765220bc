"""The canonical units a figure is stored in, and which of them are shares.

Kept apart from :mod:`analysis.data.parsing` (which reads a published unit into one of these) so that the
registry, which checks each indicator's units, and the parser import it without importing each other.
"""

from __future__ import annotations

#: Canonical unit -> what it measures.
CANONICAL_UNITS: dict[str, str] = {
    "percent_of_GRDP": "percent of gross regional domestic product",
    "percent_of_GDP": "percent of national gross domestic product",
    "percent_of_budget": "percent of annual budget spending",
    "percent": "percent of a stated population (households, adults, dossiers, firms)",
    "percent_change": "growth rate, percent per year",
    "VND_billion": "billion Vietnamese dong (tỷ đồng)",
    "USD_billion": "billion US dollars",
    "USD": "US dollars",
    "VND_million_per_worker": "million dong per worker",
    "rank": "position in a ranking (1 = best)",
    "index_0_1": "composite index on a 0-1 scale",
    "points": "score points on the index's own scale",
    "count": "a number of things (services, dossiers, firms)",
    "per_1000_population": "count per 1,000 residents",
}
SHARE_UNITS = {"percent_of_GRDP", "percent_of_GDP", "percent_of_budget", "percent"}
