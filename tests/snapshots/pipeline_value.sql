SELECT
  "t11"."period_start",
  COALESCE("t11"."open_amount", 0) AS "value"
FROM (
  SELECT
    "t3"."period_start",
    "t3"."next_start",
    "t10"."_p",
    "t10"."open_amount"
  FROM "ibis_pandas_memtable_<id>" AS "t3"
  LEFT OUTER JOIN (
    SELECT
      "t8"."period_start" AS "_p",
      "t8"."open_amount"
    FROM (
      SELECT
        "t7"."period_start",
        SUM("t7"."amount") AS "open_amount"
      FROM (
        SELECT
          "t4"."period_start",
          "t4"."next_start",
          "t6"."opportunity_id",
          "t6"."created_at",
          "t6"."status",
          "t6"."amount",
          "t6"."lead_id",
          "t6"."account_id",
          "t6"."rep_id",
          "t6"."closed_at",
          "t6"."expected_close_at",
          "t6"."deal_stage",
          "t6"."probability",
          "t6"."contract_months",
          "t6"."lost_reason",
          "t6"."currency"
        FROM "ibis_pandas_memtable_<id>" AS "t4"
        INNER JOIN (
          SELECT
            "t2"."opportunity_id",
            "t2"."created_at",
            CASE
              WHEN "t2"."status" IN ('won', 'lost') AND (
                "t2"."closed_at" IS NOT NULL
              ) AND TRUE
              THEN "t2"."status"
              ELSE 'open'
            END AS "status",
            "t2"."amount",
            "t2"."lead_id",
            "t2"."account_id",
            "t2"."rep_id",
            CASE
              WHEN "t2"."status" IN ('won', 'lost') AND (
                "t2"."closed_at" IS NOT NULL
              ) AND TRUE
              THEN "t2"."closed_at"
              ELSE CAST(NULL AS TIMESTAMP)
            END AS "closed_at",
            "t2"."expected_close_at",
            "t2"."deal_stage",
            "t2"."probability",
            "t2"."contract_months",
            "t2"."lost_reason",
            "t2"."currency"
          FROM "opportunities" AS "t2"
        ) AS "t6"
          ON "t6"."created_at" < "t4"."next_start"
          AND (
            (
              "t6"."closed_at" IS NULL
            ) OR (
              "t6"."closed_at" >= "t4"."next_start"
            )
          )
      ) AS "t7"
      GROUP BY
        1
    ) AS "t8"
  ) AS "t10"
    ON "t3"."period_start" = "t10"."_p"
) AS "t11"
ORDER BY
  "t11"."period_start" ASC
