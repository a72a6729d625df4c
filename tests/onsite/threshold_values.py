"""Tests set the coordinators' thresholds as a coordinator would, but from long ago: a version in
force for every date a test uses (after the migration's first one, before any test's dates)."""

from datetime import UTC, date, datetime

from onsite.models import ThresholdVersion
from onsite.selectors.thresholds import thresholds_in_force
from onsite.thresholds import GROUP_OF, GROUPS

LONG_AGO = date(2000, 1, 2)


def set_thresholds(**values: int) -> None:
    """A version of each group named in `values`, in force from long ago, with those values and the
    others as they were. Not through the service: tests may set values it would refuse."""
    for group in {GROUP_OF[name] for name in values}:
        current = thresholds_in_force(group, on=LONG_AGO)
        ThresholdVersion.objects.create(
            group=group,
            values={name: values.get(name, current[name]) for name in GROUPS[group]},
            effective_from=LONG_AGO,
            reason="test",
            changed_at=datetime.now(UTC),
        )
