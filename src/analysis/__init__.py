"""Is Ho Chi Minh City within reach of its digital-transformation targets?

The package is a pipeline, one subpackage per stage, imports pointing one way (a stage imports
only the stages before it and the shared modules):

``data`` (raw -> processed) -> ``models`` (processed -> assessed) -> ``reports`` (assessed ->
reported) -> ``batch`` (reported -> published).

Shared by every stage: :mod:`config` (paths), :mod:`errors`, :mod:`storage` (atomic writes),
:mod:`tables` (schemas, data dictionaries, publishing), :mod:`i18n` (texts and formatting).
"""

__version__ = "0.1.0"
