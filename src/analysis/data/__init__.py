"""Stage 1, raw -> processed: read figures as published, check their provenance, clean them into tables.

:mod:`parsing` (one cell of text -> a typed value), :mod:`provenance` (sidecars and checksums),
:mod:`cleaning` (rows -> indicators, targets, conflicts, exclusions, sources), :mod:`schemas`
(what each published table holds), :mod:`stage` (the files: validate, clean, load).
"""
