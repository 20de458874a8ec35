SELECT
  "t15"."period_start",
  "t15"."days" AS "value",
  "t15"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t3"."period_start",
    "t3"."next_start",
    "t14"."_p",
    "t14"."days"
  FROM "ibis_pandas_memtable_<id>" AS "t3"
  LEFT OUTER JOIN (
    SELECT
      MAKE_DATE(CAST(FLOOR((
        "t12"."_pk"
      ) / (
        12
      )) AS BIGINT), (
        "t12"."_pk" % 12
      ) + 1, 1) AS "_p",
      "t12"."days"
    FROM (
      SELECT
        "t11"."_pk",
        QUANTILE_CONT(
          CAST(DATE_DIFF('MICROSECOND', "t11"."reach:mql", "t11"."reach:sql") AS DOUBLE) / 86400000000,
          0.5
        ) FILTER(WHERE
          "t11"."reach:sql" IS NOT NULL) AS "days"
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
        1
    ) AS "t12"
  ) AS "t14"
    ON "t3"."period_start" = "t14"."_p"
) AS "t15"
ORDER BY
  "t15"."period_start" ASC
