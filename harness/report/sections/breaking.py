"""Each SLO's breaking point and its cause in a sentence, and the verdicts not reached with confidence."""

from __future__ import annotations

from harness.report.context import ReportContext
from harness.report.page import bullets, paragraph
from harness.report.sections import Section
from harness.report.sentences import breaking_points, holding_sentences, inconclusive_sentences


def breaking(ctx: ReportContext) -> Section | None:
    summary = ctx.summary
    if not summary.steps:
        return None
    body = bullets(breaking_points(summary) + holding_sentences(summary)) or paragraph("No SLO failed.")
    undecided = inconclusive_sentences(summary)
    if undecided:
        body += paragraph(f"{len(undecided)} verdicts were not reached with confidence: see Not judged.", "meta")
    return Section("breaking-points", "Breaking points and causes", body)


def undecided(ctx: ReportContext) -> Section | None:
    """Below the charts: a long list here would push them out of the first screen."""
    sentences = inconclusive_sentences(ctx.summary)
    if not sentences:
        return None
    intro = paragraph("An inconclusive verdict's confidence interval straddles the bound: neither pass nor fail "
                      "can be claimed. Longer windows (more samples) or a quieter host decide them.", "meta")
    return Section("not-judged", "Not judged with confidence", intro + bullets(sentences))
