"""The CrossPath Recruitment API from Python: typed records, pages, batches, the change feed
and webhook signatures; and `crosspath-sync`, which keeps a partner's JDs in sync."""

from crosspath_client.client import Client
from crosspath_client.errors import (
    ApiError,
    ConnectionFailed,
    CrossPathError,
    FeedExpired,
    InvalidSignature,
)
from crosspath_client.feed import Feed, FileCursor
from crosspath_client.records import (
    BatchResult,
    Company,
    Delivery,
    Event,
    ItemResult,
    Mission,
    ReferenceValue,
    Salary,
    Summary,
    WebhookEndpoint,
)
from crosspath_client.transport import Retry
from crosspath_client.version import __version__
from crosspath_client.webhooks import verify_webhook

__all__ = [
    "ApiError",
    "BatchResult",
    "Client",
    "Company",
    "ConnectionFailed",
    "CrossPathError",
    "Delivery",
    "Event",
    "Feed",
    "FeedExpired",
    "FileCursor",
    "InvalidSignature",
    "ItemResult",
    "Mission",
    "ReferenceValue",
    "Retry",
    "Salary",
    "Summary",
    "WebhookEndpoint",
    "__version__",
    "verify_webhook",
]
