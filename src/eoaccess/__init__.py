"""eoaccess: from "where is the data for my area and time?" to "the numbers are on my disk".

The public Python API grows with each feature; everything exported is listed in ``__all__``.
"""

from importlib.metadata import version as _version

from eoaccess.errors import EOAccessError, InvalidInputError, NotFoundError, OutputError
from eoaccess.sample import generate_sample

__version__ = _version("eoaccess")

__all__ = [
    "EOAccessError",
    "InvalidInputError",
    "NotFoundError",
    "OutputError",
    "__version__",
    "generate_sample",
]
