"""Toxiproxy for the harness: the links, a catalogue of typed toxic settings, the fault model
read from experiment files, the pure per-step schedule (which toxics at which ramp step, and
the add/update/remove changes between steps, updates in place so there is no toxic-free gap),
a small typed API client with timeouts and errors for every failed call, and the applier that
puts a step's toxics on and takes all of ours off.

The catalogue: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, and
down (``LinkDown``, the one type with ``disables_link``: the proxy is disabled, not toxified).
"""

from toxics.applier import ToxicApplier
from toxics.bandwidth import Bandwidth
from toxics.catalogue import CATALOGUE, disables_link, parse_level
from toxics.client import Proxy, Toxic, ToxiproxyClient
from toxics.down import LinkDown
from toxics.fault import Fault
from toxics.latency import Latency
from toxics.limit_data import LimitData
from toxics.links import LINKS, OUR_PREFIX, STREAMS, Link, Stream, toxic_name
from toxics.model import ToxicModel
from toxics.reset_peer import ResetPeer
from toxics.schedule import Change, ChangeKind, ToxicState, plan_changes, toxics_for_step
from toxics.slicer import Slicer
from toxics.slow_close import SlowClose
from toxics.timeout import Timeout

__all__ = [
    "CATALOGUE",
    "LINKS",
    "OUR_PREFIX",
    "STREAMS",
    "Bandwidth",
    "Change",
    "ChangeKind",
    "Fault",
    "Latency",
    "LimitData",
    "Link",
    "LinkDown",
    "Proxy",
    "ResetPeer",
    "Slicer",
    "SlowClose",
    "Stream",
    "Timeout",
    "Toxic",
    "ToxicApplier",
    "ToxicModel",
    "ToxicState",
    "ToxiproxyClient",
    "disables_link",
    "parse_level",
    "plan_changes",
    "toxic_name",
    "toxics_for_step",
]
