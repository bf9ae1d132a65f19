"""The transfer engine: downloads and range reads over http(s), s3 and local paths.

``download`` fetches STAC assets (or plain URL/path pairs) concurrently, resumably and verified,
never leaving a partial file under a final name; ``read_range``/``read_header`` read spans of
remote objects. Every function has an ``*_async`` twin; the sync ones also work inside a running
event loop. ``TransferEngine`` is the reusable core behind them (docs/design/transfer.md).
"""

from eoaccess.transfer._checksum import Checksum, parse_multihash
from eoaccess.transfer._config import (
    CredentialProvider,
    RetryPolicy,
    S3Credentials,
    S3Options,
    TransferConfig,
)
from eoaccess.transfer._download import download, download_async
from eoaccess.transfer._engine import (
    Backend,
    Body,
    FetchOutcome,
    PartWriter,
    RemoteMeta,
    TransferEngine,
    register_backend,
)
from eoaccess.transfer._errors import (
    ConnectError,
    ConnectionLostError,
    DownloadFailedError,
    LocalWriteError,
    RemoteChangedError,
    RemoteError,
    RemoteNotFoundError,
    StallError,
    TransferError,
    VerificationError,
)
from eoaccess.transfer._export import export_list, exporters, register_exporter
from eoaccess.transfer._manifest import read_manifest, write_manifest
from eoaccess.transfer._plan import DEFAULT_LAYOUT, DownloadJob, plan_downloads
from eoaccess.transfer._ranges import (
    read_header,
    read_header_async,
    read_range,
    read_range_async,
)
from eoaccess.transfer._result import DownloadResult, FileResult

__all__ = [
    "DEFAULT_LAYOUT",
    "Backend",
    "Body",
    "Checksum",
    "ConnectError",
    "ConnectionLostError",
    "CredentialProvider",
    "DownloadFailedError",
    "DownloadJob",
    "DownloadResult",
    "FetchOutcome",
    "FileResult",
    "LocalWriteError",
    "PartWriter",
    "RemoteChangedError",
    "RemoteError",
    "RemoteMeta",
    "RemoteNotFoundError",
    "RetryPolicy",
    "S3Credentials",
    "S3Options",
    "StallError",
    "TransferConfig",
    "TransferEngine",
    "TransferError",
    "VerificationError",
    "download",
    "download_async",
    "export_list",
    "exporters",
    "parse_multihash",
    "plan_downloads",
    "read_header",
    "read_header_async",
    "read_manifest",
    "read_range",
    "read_range_async",
    "register_backend",
    "register_exporter",
    "write_manifest",
]
