"""Stage 3, assessed -> reported: what the notebooks show, and how it is rendered.

:mod:`loading` (the tables a report reads, computed on demand), :mod:`content` (formatted tables
and sentences), :mod:`sections` (one call per report section), :mod:`charts`, :mod:`html`
(fragments), :mod:`render` (templates -> HTML -> PDF).  Page templates and the stylesheet are in
``templates/``, the chart style in ``styles/``; the texts are in ``analysis/locale``.
"""
