"""Recovery after each fault, and what went wrong with the stack during the run."""

from __future__ import annotations

from harness.report.context import ReportContext
from harness.report.page import bullets, paragraph, table
from harness.report.sections import Section
from harness.report.sentences import incident_sentences, recovery_after


def recovery(ctx: ReportContext) -> Section | None:
    items = ctx.summary.recovery
    if not items:
        return None
    rows = [[item.fault_step, item.users, "; ".join(item.fault), tier, "yes" if tier_recovery.broke else "no",
             recovery_after(tier_recovery.recovery_s, tier_recovery.resolution_s, item.watched_s)]
            for item in items for tier, tier_recovery in item.tiers.items()]
    intro = paragraph("Time from the fault's removal until each SLO held again, read on short slices (point "
                      "values, to the slice's resolution).", "meta")
    return Section("recovery", "Recovery after each fault", intro + table(
        ["fault step", "users", "fault", "tier", "broke during the fault", "recovered after"], rows))


def incidents(ctx: ReportContext) -> Section | None:
    if not ctx.summary.incidents:
        return None
    intro = paragraph("What went wrong with the stack during the run; the steps it met are flagged.", "meta")
    return Section("incidents", "Incidents", intro + bullets(incident_sentences(ctx.summary)))
