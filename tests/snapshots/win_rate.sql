WITH "t11" AS (
  SELECT
    "t10"."_pk",
    "t10"."dim:rep.team",
    COUNT(*) FILTER(WHERE
      "t10"."status" = 'won') AS "won",
    COUNT(*) FILTER(WHERE
      "t10"."status" IN ('won', 'lost')) AS "closed"
  FROM (
    SELECT
      "t9"."opportunity_id",
      "t9"."created_at",
      "t9"."status",
      "t9"."amount",
      "t9"."lead_id",
      "t9"."account_id",
      "t9"."rep_id",
      "t9"."closed_at",
      "t9"."expected_close_at",
      "t9"."deal_stage",
      "t9"."probability",
      "t9"."contract_months",
      "t9"."lost_reason",
      "t9"."currency",
      "t9"."rep.team",
      "t9"."rep.team" AS "dim:rep.team",
      "t9"."closed_at" AS "_ts",
      (
        (
          EXTRACT(year FROM "t9"."closed_at") * 12
        ) + EXTRACT(month FROM "t9"."closed_at")
      ) - 1 AS "_pk"
    FROM (
      SELECT
        "t8".*
        EXCLUDE ("_jk")
      FROM (
        SELECT
          "t7"."opportunity_id",
          "t7"."created_at",
          "t7"."status",
          "t7"."amount",
          "t7"."lead_id",
          "t7"."account_id",
          "t7"."rep_id",
          "t7"."closed_at",
          "t7"."expected_close_at",
          "t7"."deal_stage",
          "t7"."probability",
          "t7"."contract_months",
          "t7"."lost_reason",
          "t7"."currency",
          "t5"."_jk",
          "t5"."rep.team"
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
            "t1"."currency"
          FROM "opportunities" AS "t1"
          WHERE
            "t1"."created_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
        ) AS "t7"
        LEFT OUTER JOIN (
          SELECT
            "t2"."rep_id" AS "_jk",
            "t2"."team" AS "rep.team"
          FROM "reps" AS "t2"
        ) AS "t5"
          ON "t7"."rep_id" = "t5"."_jk"
      ) AS "t8"
    ) AS "t9"
    WHERE
      "t9"."closed_at" IS NOT NULL
      AND "t9"."closed_at" >= MAKE_TIMESTAMP(2026, 1, 1, 0, 0, 0.0)
      AND "t9"."closed_at" < MAKE_TIMESTAMP(2026, 4, 1, 0, 0, 0.0)
  ) AS "t10"
  GROUP BY
    1,
    2
)
SELECT
  "t17"."period_start",
  "t17"."dim:rep.team" AS "rep.team",
  CASE
    WHEN COALESCE("t17"."closed", 0) = 0
    THEN CAST(NULL AS DOUBLE)
    ELSE CAST(COALESCE("t17"."won", 0) AS DOUBLE) / COALESCE("t17"."closed", 0)
  END AS "value",
  CAST(COALESCE("t17"."won", 0) AS DOUBLE) AS "numerator",
  CAST(COALESCE("t17"."closed", 0) AS DOUBLE) AS "denominator",
  "t17"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t3"."period_start",
    "t3"."next_start",
    "t14"."dim:rep.team",
    "t16"."_p",
    "t16"."_k0",
    "t16"."won",
    "t16"."closed"
  FROM "ibis_pandas_memtable_<id>" AS "t3"
  CROSS JOIN (
    SELECT DISTINCT
      "t12"."dim:rep.team"
    FROM "t11" AS "t12"
  ) AS "t14"
  LEFT OUTER JOIN (
    SELECT
      MAKE_DATE(CAST(FLOOR((
        "t12"."_pk"
      ) / (
        12
      )) AS BIGINT), (
        "t12"."_pk" % 12
      ) + 1, 1) AS "_p",
      "t12"."dim:rep.team" AS "_k0",
      "t12"."won",
      "t12"."closed"
    FROM "t11" AS "t12"
  ) AS "t16"
    ON "t3"."period_start" = "t16"."_p"
    AND "t14"."dim:rep.team" IS NOT DISTINCT FROM "t16"."_k0"
) AS "t17"
ORDER BY
  "t17"."period_start" ASC,
  "t17"."dim:rep.team" ASC
