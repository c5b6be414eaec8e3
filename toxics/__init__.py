"""Toxiproxy for the harness: the links, a catalogue of typed toxic settings, the fault
model read from experiment files, the pure per-step schedule (which toxics at which
ramp step, and the add/update/remove changes between steps, updates in place so there
is no toxic-free gap), a small typed API client with timeouts and errors for every
failed call, and the applier that puts a step's toxics on and takes all of ours off.
"""

from toxics.applier import ToxicApplier
from toxics.bandwidth import Bandwidth
from toxics.catalogue import CATALOGUE, parse_level
from toxics.client import Proxy, Toxic, ToxiproxyClient
from toxics.fault import Fault
from toxics.latency import Latency
from toxics.links import LINKS, OUR_PREFIX, STREAMS, Link, Stream, toxic_name
from toxics.model import ToxicModel
from toxics.schedule import Change, ChangeKind, ToxicState, plan_changes, toxics_for_step

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
    "Link",
    "Proxy",
    "Stream",
    "Toxic",
    "ToxicApplier",
    "ToxicModel",
    "ToxicState",
    "ToxiproxyClient",
    "parse_level",
    "plan_changes",
    "toxic_name",
    "toxics_for_step",
]
