WITH "t12" AS (
  SELECT
    "t11"."_pk",
    "t11"."dim:source",
    COUNT(*) AS "entered",
    COUNT(*) FILTER(WHERE
      (
        "t11"."reach:sql" IS NOT NULL
      )
      AND (
        DATE_DIFF('MICROSECOND', "t11"."reach:mql", "t11"."reach:sql") <= 15552000000000
      )) AS "converted"
  FROM (
    SELECT
      "t10"."lead_id",
      "t10"."created_at",
      "t10"."source",
      "t10"."campaign_id",
      "t10"."rep_id",
      "t10"."account_id",
      "t10"."industry",
      "t10"."country",
      "t10"."segment",
      "t10"."lead_type",
      "t10"."reach:mql",
      "t10"."reach:sql",
      "t10"."created_at" AS "reach:lead",
      "t10"."source" AS "dim:source",
      "t10"."reach:mql" AS "_ts",
      (
        (
          EXTRACT(year FROM "t10"."reach:mql") * 12
        ) + EXTRACT(month FROM "t10"."reach:mql")
      ) - 1 AS "_pk"
    FROM (
      SELECT
        "t9".*
        EXCLUDE ("_lid")
      FROM (
        SELECT
          "t6"."lead_id",
          "t6"."created_at",
          "t6"."source",
          "t6"."campaign_id",
          "t6"."rep_id",
          "t6"."account_id",
          "t6"."industry",
          "t6"."country",
          "t6"."segment",
          "t6"."lead_type",
          "t8"."_lid",
          "t8"."reach:mql",
          "t8"."reach:sql"
        FROM (
          SELECT
            *
          FROM "leads" AS "t1"
          WHERE
            "t1"."created_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
        ) AS "t6"
        LEFT OUTER JOIN (
          SELECT
            "t5"."lead_id" AS "_lid",
            MIN("t5"."occurred_at") AS "reach:mql",
            MIN("t5"."occurred_at") FILTER(WHERE
              "t5"."stage" IN ('sql', 'opportunity', 'won')) AS "reach:sql"
          FROM (
            SELECT
              *
            FROM "stage_events" AS "t2"
            WHERE
              "t2"."occurred_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
              AND "t2"."stage" IN ('mql', 'sql', 'opportunity', 'won')
          ) AS "t5"
          GROUP BY
            1
        ) AS "t8"
          ON "t6"."lead_id" = "t8"."_lid"
      ) AS "t9"
    ) AS "t10"
    WHERE
      "t10"."reach:mql" IS NOT NULL
      AND "t10"."reach:mql" >= MAKE_TIMESTAMP(2026, 1, 1, 0, 0, 0.0)
      AND "t10"."reach:mql" < MAKE_TIMESTAMP(2026, 4, 1, 0, 0, 0.0)
  ) AS "t11"
  GROUP BY
    1,
    2
)
SELECT
  "t18"."period_start",
  "t18"."dim:source" AS "source",
  CASE
    WHEN COALESCE("t18"."entered", 0) = 0
    THEN CAST(NULL AS DOUBLE)
    ELSE CAST(COALESCE("t18"."converted", 0) AS DOUBLE) / COALESCE("t18"."entered", 0)
  END AS "value",
  CAST(COALESCE("t18"."converted", 0) AS DOUBLE) AS "numerator",
  CAST(COALESCE("t18"."entered", 0) AS DOUBLE) AS "denominator",
  (
    "t18"."next_start" + INTERVAL '15552000' SECOND
  ) > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "immature",
  "t18"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t3"."period_start",
    "t3"."next_start",
    "t15"."dim:source",
    "t17"."_p",
    "t17"."_k0",
    "t17"."entered",
    "t17"."converted"
  FROM "ibis_pandas_memtable_<id>" AS "t3"
  CROSS JOIN (
    SELECT DISTINCT
      "t13"."dim:source"
    FROM "t12" AS "t13"
  ) AS "t15"
  LEFT OUTER JOIN (
    SELECT
      MAKE_DATE(CAST(FLOOR((
        "t13"."_pk"
      ) / (
        12
      )) AS BIGINT), (
        "t13"."_pk" % 12
      ) + 1, 1) AS "_p",
      "t13"."dim:source" AS "_k0",
      "t13"."entered",
      "t13"."converted"
    FROM "t12" AS "t13"
  ) AS "t17"
    ON "t3"."period_start" = "t17"."_p"
    AND "t15"."dim:source" IS NOT DISTINCT FROM "t17"."_k0"
) AS "t18"
ORDER BY
  "t18"."period_start" ASC,
  "t18"."dim:source" ASC
