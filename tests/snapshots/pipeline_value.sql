SELECT
  "t10"."period_start",
  CASE
    WHEN (
      COALESCE("t10"."open", 0) > 0
    ) AND (
      COALESCE("t10"."open_known", 0) = 0
    )
    THEN CAST(NULL AS DOUBLE)
    ELSE COALESCE("t10"."open_amount", 0)
  END AS "value",
  CASE
    WHEN (
      COALESCE("t10"."open", 0) - COALESCE("t10"."open_known", 0)
    ) > 0
    THEN CAST(COALESCE("t10"."open", 0) - COALESCE("t10"."open_known", 0) AS TEXT) || ' open deal(s) with an unknown amount left out'
    ELSE CAST(NULL AS TEXT)
  END AS "note",
  "t10"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t9".*
    EXCLUDE ("_p")
  FROM (
    SELECT
      "t2"."period_start",
      "t2"."next_start",
      "t8"."_p",
      "t8"."open_amount",
      "t8"."open",
      "t8"."open_known"
    FROM "ibis_pandas_memtable_<id>" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        "t6"."period_start" AS "_p",
        "t6"."open_amount",
        "t6"."open",
        "t6"."open_known"
      FROM (
        SELECT
          "t5"."period_start",
          SUM("t5"."amount") AS "open_amount",
          COUNT(*) AS "open",
          COUNT(*) FILTER(WHERE
            "t5"."amount" IS NOT NULL) AS "open_known"
        FROM (
          SELECT
            "t2"."period_start",
            "t2"."next_start",
            "t4"."opportunity_id",
            "t4"."created_at",
            "t4"."status",
            "t4"."amount",
            "t4"."lead_id",
            "t4"."account_id",
            "t4"."rep_id",
            "t4"."closed_at",
            "t4"."expected_close_at",
            "t4"."deal_stage",
            "t4"."probability",
            "t4"."contract_months",
            "t4"."lost_reason",
            "t4"."currency"
          FROM "ibis_pandas_memtable_<id>" AS "t2"
          INNER JOIN (
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
              "t1"."currency"
            FROM "opportunities" AS "t1"
            WHERE
              "t1"."created_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
          ) AS "t4"
            ON "t4"."created_at" < "t2"."next_start"
            AND (
              (
                "t4"."closed_at" IS NULL
              ) OR (
                "t4"."closed_at" >= "t2"."next_start"
              )
            )
        ) AS "t5"
        GROUP BY
          1
      ) AS "t6"
    ) AS "t8"
      ON "t2"."period_start" = "t8"."_p"
  ) AS "t9"
) AS "t10"
ORDER BY
  "t10"."period_start" ASC
