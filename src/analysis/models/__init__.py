"""Stage 2, processed -> assessed: official-style progress rules and probabilistic forecasts.

:mod:`progress` (Eurostat, UNSD, ESCAP, pace), :mod:`forecasting` (bounded trend models with
parameter uncertainty), :mod:`plan` (which targets are assessed, from ``data/assessment_plan.yml``),
:mod:`assessment` (series x targets -> forecasts and assessments), :mod:`benchmark` (the M3
back-test), :mod:`schemas`, :mod:`stage` (the files).
"""
