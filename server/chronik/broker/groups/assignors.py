"""KIP-848 server-side assignors: ``uniform`` (the default) and ``range`` (``group.consumer.assignors``).

Input: each member's subscribed topics (names resolved to existing topics), the partition
count of every subscribed topic, and the previous target assignment (for stickiness).
Output: member id → topic → set of partitions. Every partition of a subscribed topic goes to
exactly one member subscribed to it.

- ``uniform`` (Kafka's ``UniformAssignor``): balanced by partition count across the members
  that can take a partition, keeping each member's previous partitions up to its fair share.
- ``range`` (Kafka's server-side ``RangeAssignor``): per topic, the subscribed members in
  member id order get contiguous ranges, the first ``partitions % members`` one more.
"""

from __future__ import annotations

from collections.abc import Mapping

Assignment = dict[str, dict[str, set[int]]]


def range_assign(
    subscriptions: Mapping[str, set[str]], partitions: Mapping[str, int], _previous: Assignment
) -> Assignment:
    out: Assignment = {m: {} for m in subscriptions}
    for topic in sorted(partitions):
        members = sorted(m for m, topics in subscriptions.items() if topic in topics)
        if not members:
            continue
        per, extra = divmod(partitions[topic], len(members))
        start = 0
        for i, m in enumerate(members):
            count = per + (1 if i < extra else 0)
            if count:
                out[m][topic] = set(range(start, start + count))
            start += count
    return out


def uniform_assign(
    subscriptions: Mapping[str, set[str]], partitions: Mapping[str, int], previous: Assignment
) -> Assignment:
    out: Assignment = {m: {} for m in subscriptions}
    counts = dict.fromkeys(subscriptions, 0)
    every = [(t, p) for t in sorted(partitions) for p in range(partitions[t])]
    eligible = {tp: [m for m in sorted(subscriptions) if tp[0] in subscriptions[m]] for tp in every}
    every = [tp for tp in every if eligible[tp]]
    # a member's fair share: its eligible partitions spread over the members competing for them
    share: dict[str, float] = dict.fromkeys(subscriptions, 0.0)
    for tp in every:
        for m in eligible[tp]:
            share[m] += 1 / len(eligible[tp])
    limit = {m: int(-(-share[m] // 1)) for m in subscriptions}  # ceil
    unassigned = []
    for tp in every:
        keep = next(
            (m for m in eligible[tp] if tp[1] in previous.get(m, {}).get(tp[0], ()) and counts[m] < limit[m]), None
        )
        if keep is None:
            unassigned.append(tp)
        else:
            out[keep].setdefault(tp[0], set()).add(tp[1])
            counts[keep] += 1
    for tp in unassigned:
        m = min(eligible[tp], key=lambda x: (counts[x], x))
        out[m].setdefault(tp[0], set()).add(tp[1])
        counts[m] += 1
    return out


ASSIGNORS = {"uniform": uniform_assign, "range": range_assign}
