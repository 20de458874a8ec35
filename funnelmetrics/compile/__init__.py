"""From catalogue entries to Ibis expressions: the compile context, periods (`time`), the
compiler, and the batch planner that shares work between a batch's queries (`batch`)."""
