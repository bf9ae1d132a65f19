"""``eoaccess serve``: an archive and its catalog as a STAC API with a Range-capable file server.

:func:`create_app` builds the ASGI app over any :class:`~eoaccess.stores.CatalogStore`;
:func:`start_in_thread` runs it on a loopback port (tests, quickstart) and
:func:`serve_forever` in the foreground (the CLI).
"""

import logging

# stac-fastapi builds default settings at import time and warns that their title is the
# default; ours are always set explicitly, so the warning would only confuse users.
logging.getLogger("stac_fastapi.types.config").setLevel(logging.ERROR)

from eoaccess.server.app import ServerSettings, create_app  # noqa: E402
from eoaccess.server.run import RunningServer, serve_forever, start_in_thread  # noqa: E402

__all__ = ["RunningServer", "ServerSettings", "create_app", "serve_forever", "start_in_thread"]
