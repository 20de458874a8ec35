SELECT
  "t8"."period_start",
  COALESCE("t8"."won_amount", 0) AS "value",
  "t8"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t2"."period_start",
    "t2"."next_start",
    "t7"."_p",
    "t7"."won_amount"
  FROM "ibis_pandas_memtable_<id>" AS "t2"
  LEFT OUTER JOIN (
    SELECT
      MAKE_DATE(CAST(FLOOR((
        "t5"."_pk"
      ) / (
        12
      )) AS BIGINT), (
        "t5"."_pk" % 12
      ) + 1, 1) AS "_p",
      "t5"."won_amount"
    FROM (
      SELECT
        "t4"."_pk",
        SUM("t4"."amount") FILTER(WHERE
          "t4"."status" = 'won') AS "won_amount"
      FROM (
        SELECT
          "t3"."opportunity_id",
          "t3"."created_at",
          "t3"."status",
          "t3"."amount",
          "t3"."lead_id",
          "t3"."account_id",
          "t3"."rep_id",
          "t3"."closed_at",
          "t3"."expected_close_at",
          "t3"."deal_stage",
          "t3"."probability",
          "t3"."contract_months",
          "t3"."lost_reason",
          "t3"."currency",
          "t3"."_ts",
          (
            (
              EXTRACT(year FROM "t3"."_ts") * 12
            ) + EXTRACT(month FROM "t3"."_ts")
          ) - 1 AS "_pk"
        FROM (
          SELECT
            "t1"."opportunity_id",
            "t1"."created_at",
            CASE
              WHEN "t1"."status" IN ('won', 'lost')
              AND (
                "t1"."closed_at" IS NOT NULL
              )
              AND (
                "t1"."closed_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
              )
              THEN "t1"."status"
              ELSE 'open'
            END AS "status",
            "t1"."amount",
            "t1"."lead_id",
            "t1"."account_id",
            "t1"."rep_id",
            CASE
              WHEN "t1"."status" IN ('won', 'lost')
              AND (
                "t1"."closed_at" IS NOT NULL
              )
              AND (
                "t1"."closed_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
              )
              THEN "t1"."closed_at"
              ELSE CAST(NULL AS TIMESTAMP)
            END AS "closed_at",
            "t1"."expected_close_at",
            "t1"."deal_stage",
            "t1"."probability",
            "t1"."contract_months",
            "t1"."lost_reason",
            "t1"."currency",
            CASE
              WHEN "t1"."status" IN ('won', 'lost')
              AND (
                "t1"."closed_at" IS NOT NULL
              )
              AND (
                "t1"."closed_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
              )
              THEN "t1"."closed_at"
              ELSE CAST(NULL AS TIMESTAMP)
            END AS "_ts"
          FROM "opportunities" AS "t1"
          WHERE
            "t1"."created_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
        ) AS "t3"
        WHERE
          "t3"."_ts" IS NOT NULL
          AND "t3"."_ts" >= MAKE_TIMESTAMP(2026, 1, 1, 0, 0, 0.0)
          AND "t3"."_ts" < MAKE_TIMESTAMP(2026, 4, 1, 0, 0, 0.0)
      ) AS "t4"
      GROUP BY
        1
    ) AS "t5"
  ) AS "t7"
    ON "t2"."period_start" = "t7"."_p"
) AS "t8"
ORDER BY
  "t8"."period_start" ASC
