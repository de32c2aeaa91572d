"""What the timeline calls each mark's status: the words in its one-line label and its
table row, and the short word drawn beside its name on the chart."""

from __future__ import annotations

from collections.abc import Mapping

STATUS_WORDS: Mapping[tuple[str, str], str] = {
    ("outage", "counted"): "counted as downtime",
    ("outage", "excluded"): "excluded",
    ("outage", "below_floor"): "below the downtime floor",
    ("outage", "other_customers"): "other customers only",
    ("outage", "retracted"): "retracted",
    ("outage", "outside"): "outside the measured range",
    ("outage", "empty"): "no measured time",
    ("maintenance", "excluded"): "excluded (enough notice)",
    ("maintenance", "not_excluded"): "not excluded (too little notice)",
    ("maintenance", "cancelled"): "cancelled",
    ("coverage", "pro_rated"): "pro-rated",
    ("terms", "in_force"): "in force",
}


def words_for_status(kind: str, status: str) -> str:
    return STATUS_WORDS.get((kind, status), status.replace("_", " "))


def without_status(why: str, words: str) -> str:
    """The document's reason, without the status words it may begin with."""
    prefix = f"{words}: "
    if why == words:
        return ""
    return why[len(prefix) :] if why.startswith(prefix) else why


# The word beside a mark's name on the chart: an outage's or a window's when it does not
# simply count, an incident's verdict always (its shapes' fill is only colour).
SHORT_WORDS: Mapping[tuple[str, str], str] = {
    ("outage", "excluded"): "excluded",
    ("outage", "below_floor"): "below floor",
    ("outage", "other_customers"): "other customers",
    ("outage", "retracted"): "retracted",
    ("outage", "outside"): "outside",
    ("outage", "empty"): "empty",
    ("maintenance", "excluded"): "excluded",
    ("maintenance", "not_excluded"): "not excluded",
    ("maintenance", "cancelled"): "cancelled",
    ("incident-opened", "met"): "met",
    ("incident-opened", "missed"): "missed",
    ("incident-opened", "pending"): "pending",
    ("incident-opened", "not_counted"): "not counted",
}
