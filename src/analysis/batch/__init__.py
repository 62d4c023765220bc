"""Stage 4, reported -> published: the scheduled run that regenerates every report safely.

:mod:`plan` (the run plan, ``notebooks/plan.yml``), :mod:`run` (data stage, notebooks in
parallel, staging, publishing, index, run records), :mod:`bench` (timings against the naive chain).
"""
