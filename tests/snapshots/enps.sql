SELECT
  "t8"."period_start",
  CASE
    WHEN (
      COALESCE("t8"."respondents", 0) > 0
    )
    AND (
      COALESCE("t8"."respondents", 0) < 5
    )
    THEN CAST(NULL AS DOUBLE)
    ELSE CASE
      WHEN COALESCE("t8"."responses", 0) = 0
      THEN CAST(NULL AS DOUBLE)
      ELSE CAST(COALESCE("t8"."promoters", 0) - COALESCE("t8"."detractors", 0) AS DOUBLE) / COALESCE("t8"."responses", 0)
    END * 100
  END AS "value",
  CAST(CASE
    WHEN (
      COALESCE("t8"."respondents", 0) > 0
    )
    AND (
      COALESCE("t8"."respondents", 0) < 5
    )
    THEN CAST(NULL AS BIGINT)
    ELSE COALESCE("t8"."promoters", 0) - COALESCE("t8"."detractors", 0)
  END AS DOUBLE) AS "numerator",
  CAST(COALESCE("t8"."responses", 0) AS DOUBLE) AS "denominator",
  CASE
    WHEN (
      COALESCE("t8"."respondents", 0) > 0
    )
    AND (
      COALESCE("t8"."respondents", 0) < 5
    )
    THEN 'fewer than 5 respondents: not shown (enps_min_respondents)'
    ELSE CAST(NULL AS TEXT)
  END AS "note",
  "t8"."next_start" > MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0) AS "partial"
FROM (
  SELECT
    "t7".*
    EXCLUDE ("_p")
  FROM (
    SELECT
      "t2"."period_start",
      "t2"."next_start",
      "t6"."_p",
      "t6"."promoters",
      "t6"."detractors",
      "t6"."responses",
      "t6"."respondents"
    FROM "ibis_pandas_memtable_<id>" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        MAKE_DATE(
          CAST(FLOOR((
            "t4"."_pk"
          ) / (
            4
          )) AS BIGINT),
          (
            (
              "t4"."_pk" % 4
            ) * 3
          ) + 1,
          1
        ) AS "_p",
        "t4"."promoters",
        "t4"."detractors",
        "t4"."responses",
        "t4"."respondents"
      FROM (
        SELECT
          "t3"."_pk",
          COUNT(*) FILTER(WHERE
            "t3"."score" >= 9) AS "promoters",
          COUNT(*) FILTER(WHERE
            "t3"."score" <= 6) AS "detractors",
          COUNT(*) AS "responses",
          COUNT(DISTINCT "t3"."respondent_id") AS "respondents"
        FROM (
          SELECT
            "t1"."survey_id",
            "t1"."respondent_id",
            "t1"."answered_at",
            "t1"."score",
            "t1"."team",
            "t1"."answered_at" AS "_ts",
            (
              (
                EXTRACT(year FROM "t1"."answered_at") * 4
              ) + EXTRACT(quarter FROM "t1"."answered_at")
            ) - 1 AS "_pk"
          FROM "survey_responses" AS "t1"
          WHERE
            "t1"."answered_at" < MAKE_TIMESTAMP(2026, 6, 30, 0, 0, 0.0)
            AND "t1"."answered_at" IS NOT NULL
            AND "t1"."answered_at" >= MAKE_TIMESTAMP(2026, 1, 1, 0, 0, 0.0)
            AND "t1"."answered_at" < MAKE_TIMESTAMP(2026, 7, 1, 0, 0, 0.0)
        ) AS "t3"
        GROUP BY
          1
      ) AS "t4"
    ) AS "t6"
      ON "t2"."period_start" = "t6"."_p"
  ) AS "t7"
) AS "t8"
ORDER BY
  "t8"."period_start" ASC
