SELECT
  "t7"."period_start",
  CAST(COALESCE("t7"."leads", 0) AS DOUBLE) AS "value",
  "t7"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t2"."period_start",
    "t2"."next_start",
    "t6"."_p",
    "t6"."leads"
  FROM "ibis_pandas_memtable_<id>" AS "t2"
  LEFT OUTER JOIN (
    SELECT
      MAKE_DATE(CAST(FLOOR((
        "t4"."_pk"
      ) / (
        12
      )) AS BIGINT), (
        "t4"."_pk" % 12
      ) + 1, 1) AS "_p",
      "t4"."leads"
    FROM (
      SELECT
        "t3"."_pk",
        COUNT(*) AS "leads"
      FROM (
        SELECT
          "t1"."lead_id",
          "t1"."created_at",
          "t1"."source",
          "t1"."campaign_id",
          "t1"."rep_id",
          "t1"."account_id",
          "t1"."industry",
          "t1"."country",
          "t1"."segment",
          "t1"."lead_type",
          "t1"."created_at" AS "reach:lead",
          "t1"."created_at" AS "_ts",
          (
            (
              EXTRACT(year FROM "t1"."created_at") * 12
            ) + EXTRACT(month FROM "t1"."created_at")
          ) - 1 AS "_pk"
        FROM "leads" AS "t1"
        WHERE
          "t1"."created_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
          AND "t1"."created_at" IS NOT NULL
          AND "t1"."created_at" >= MAKE_TIMESTAMP(2026, 1, 1, 0, 0, 0.0)
          AND "t1"."created_at" < MAKE_TIMESTAMP(2026, 4, 1, 0, 0, 0.0)
      ) AS "t3"
      GROUP BY
        1
    ) AS "t4"
  ) AS "t6"
    ON "t2"."period_start" = "t6"."_p"
) AS "t7"
ORDER BY
  "t7"."period_start" ASC
