"""Stage 2, processed -> assessed: official-style progress rules and probabilistic forecasts.

:mod:`progress` (Eurostat, UNSD, ESCAP, pace), :mod:`forecasting` (closed-form forecasts for short
bounded series; fitted values in ``forecast_defaults.yml``), :mod:`forecast_fit` (how those values
are fitted), :mod:`plan` (which targets are assessed, from ``data/assessment_plan.yml``),
:mod:`assessment` (series x targets -> forecasts and assessments), :mod:`what_it_takes`,
:mod:`merged_city`, :mod:`track_record`, :mod:`changes`, :mod:`benchmark` (the M3 back-test, out of
sample), :mod:`schemas`, :mod:`stage` (the files).
"""
