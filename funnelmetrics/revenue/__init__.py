"""SaaS revenue and go-to-market building blocks shared by the catalogue (SPEC §2, §3).

- `fx`: amounts converted to the reporting currency (used by the entity builders);
- `channels`: a lead's, a deal's and a spend row's channel; an account's acquiring lead;
- `mrr`: per-account MRR at the previous and this period's end, and its movements;
- `engagement`: the per-account engagement score;
- `credit`: won revenue credited to channels by a pluggable model (marketing_roi);
- `movements`, `cohorts`, `leaderboard`: the tables behind `funnelmetrics mrr` / `leaderboard`;
- `customers`: new customers (cac).

Inside `ws.batch()` the MRR movements and the new customers are materialised once
(`Workspace.shared`).

Modules here import the compiler lazily where they are entity builders, so
`funnelmetrics.compile.entities` can name them without an import cycle.
"""
