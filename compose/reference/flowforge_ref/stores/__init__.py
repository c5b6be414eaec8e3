"""One class per datastore; each client library is imported only in its module."""

from .clickhouse_store import ClickHouseStore
from .materialize_store import MaterializeStore
from .redis_store import RedisStore

__all__ = ["ClickHouseStore", "MaterializeStore", "RedisStore"]
