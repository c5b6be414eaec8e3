"""The server-side vantage: per window, what the servers say about their own time, and the host's CPU.

See ``collector.Vantage``; the models are in ``views``.
"""

from harness.vantage.collector import Vantage
from harness.vantage.views import HostCpu, ServerView, VantageError, VantageRecord

__all__ = ["HostCpu", "ServerView", "Vantage", "VantageError", "VantageRecord"]
