"""From catalogue entries to Ibis expressions: periods, entities, reach times, the compiler."""
