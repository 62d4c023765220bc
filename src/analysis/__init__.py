"""Is Ho Chi Minh City within reach of its digital-transformation targets?

Modules: :mod:`parsing` (reading figures as published), :mod:`cleaning` (raw -> tidy tables),
:mod:`progress` (official-style progress rules), :mod:`forecasting` (probabilistic trend
models), :mod:`assessment` (targets x estimators), :mod:`benchmark` (M3 back-test),
:mod:`reporting` (charts, HTML, PDF), :mod:`batch` (the scheduled run).
"""

__version__ = "0.1.0"
