"""The Jepsen-style checker: what a drill's clients were told, against what the cluster holds.

Pure: a history of operations (each a unique value written once: an RPUSH onto one list, or a
SET of a key of its own) and the final contents, in; counts out:

  acknowledged_present    the client saw success and the value is there
  acknowledged_lost       the client saw success and the value is gone: the only real loss
  unacknowledged_present  error or timeout, yet the value is there (allowed: the fate of a
                          write that timed out is unknown)
  unacknowledged_absent   error or timeout, and not there
  duplicates              a value present more than once (a retried write applied twice)
  unknown_present         a value nobody wrote (must be zero)
"""

from collections import Counter
from dataclasses import dataclass, field

OK = "ok"


@dataclass
class Verdict:
    attempted: int = 0
    acknowledged: int = 0
    failed: int = 0
    acknowledged_present: int = 0
    acknowledged_lost: int = 0
    unacknowledged_present: int = 0
    unacknowledged_absent: int = 0
    duplicates: int = 0
    unknown_present: int = 0
    lost_values: list = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.acknowledged_lost == 0 and self.duplicates == 0 and self.unknown_present == 0


def check(history, final_list, final_keys) -> Verdict:
    """history: [{"kind": "rpush"|"set", "value": int, "result": "ok"|"error"|"timeout"}];
    final_list: the list's elements (ints); final_keys: the values whose key exists (ints)."""
    verdict = Verdict()
    present = {"rpush": Counter(final_list), "set": Counter(final_keys)}
    written = {"rpush": set(), "set": set()}
    for op in history:
        kind, value = op["kind"], op["value"]
        written[kind].add(value)
        verdict.attempted += 1
        there = present[kind][value] > 0
        if op["result"] == OK:
            verdict.acknowledged += 1
            if there:
                verdict.acknowledged_present += 1
            else:
                verdict.acknowledged_lost += 1
                verdict.lost_values.append((kind, value))
        else:
            verdict.failed += 1
            if there:
                verdict.unacknowledged_present += 1
            else:
                verdict.unacknowledged_absent += 1
    for kind, counts in present.items():
        verdict.duplicates += sum(n - 1 for n in counts.values() if n > 1)
        verdict.unknown_present += sum(1 for value in counts if value not in written[kind])
    return verdict
