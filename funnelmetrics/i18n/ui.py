"""Interface texts of the dashboard in en, id and ms (metric labels come from the catalogue)."""

from __future__ import annotations

LANG_NAMES = {"en": "English", "id": "Bahasa Indonesia", "ms": "Bahasa Melayu"}

# key: (en, id, ms)
TEXTS: dict[str, tuple[str, str, str]] = {
    # navigation
    "overview": ("Overview", "Ringkasan", "Ringkasan"),
    "funnel": ("Funnel", "Corong", "Corong"),
    "trends": ("Trends", "Tren", "Trend"),
    "cohorts": ("Cohorts", "Kohort", "Kohort"),
    "revenue": ("Revenue", "Pendapatan", "Hasil"),
    "marketing": ("Marketing", "Pemasaran", "Pemasaran"),
    "team": ("Team", "Tim", "Pasukan"),
    "forecast": ("Forecast", "Prakiraan", "Ramalan"),
    "bookings_forecast": ("Bookings forecast (P10–P90)", "Prakiraan pemesanan (P10–P90)",
                          "Ramalan tempahan (P10–P90)"),
    "bookings_p50": ("Bookings forecast (P50)", "Prakiraan pemesanan (P50)",
                     "Ramalan tempahan (P50)"),
    "forecast_accuracy": ("Forecast back-test", "Uji balik prakiraan", "Ujian balik ramalan"),
    "cohort_survival": ("Cohort survival (sBG)", "Kelangsungan kohort (sBG)",
                        "Kemandirian kohort (sBG)"),
    "no_insights": ("Nothing stands out in this period.",
                    "Tidak ada yang menonjol pada periode ini.",
                    "Tiada yang menonjol dalam tempoh ini."),
    "rows": ("Rows", "Baris", "Baris"),
    # filters
    "filters": ("Filters", "Filter", "Penapis"),
    "start": ("From", "Dari", "Dari"),
    "end": ("To", "Sampai", "Hingga"),
    "grain": ("Grain", "Periode", "Tempoh"),
    "split_by": ("Split by", "Pisahkan menurut", "Pecahkan mengikut"),
    "filter_by": ("Filter", "Saring", "Tapis"),
    "value": ("Value", "Nilai", "Nilai"),
    "apply": ("Apply", "Terapkan", "Guna"),
    "reset": ("Reset", "Atur ulang", "Set semula"),
    "none": ("(none)", "(tidak ada)", "(tiada)"),
    "metric": ("Metric", "Metrik", "Metrik"),
    "day": ("Day", "Hari", "Hari"),
    "week": ("Week", "Minggu", "Minggu"),
    "month": ("Month", "Bulan", "Bulan"),
    "quarter": ("Quarter", "Kuartal", "Suku tahun"),
    "year": ("Year", "Tahun", "Tahun"),
    # tiles and statuses
    "vs_previous": ("vs previous period", "vs periode sebelumnya", "vs tempoh sebelumnya"),
    "vs_prior": ("vs prior", "vs sebelumnya", "vs sebelumnya"),
    "kpi_summary": ("KPI summary", "Ringkasan KPI", "Ringkasan KPI"),
    "benchmark": ("Benchmark", "Tolok ukur", "Penanda aras"),
    "great": ("great", "sangat baik", "sangat baik"),
    "good": ("good", "baik", "baik"),
    "below": ("below benchmark", "di bawah tolok ukur", "di bawah penanda aras"),
    "target": ("Target", "Target", "Sasaran"),
    "on_track": ("on track", "sesuai target", "mengikut sasaran"),
    "at_risk": ("at risk", "berisiko", "berisiko"),
    "behind": ("behind", "tertinggal", "ketinggalan"),
    "targets": ("KPI targets this period", "Target KPI periode ini", "Sasaran KPI tempoh ini"),
    "actual": ("Actual", "Aktual", "Sebenar"),
    "expected": ("Expected so far", "Diharapkan sejauh ini", "Dijangka setakat ini"),
    "status": ("Status", "Status", "Status"),
    "days_unit": ("days", "hari", "hari"),
    "by": ("by", "menurut", "mengikut"),
    "no_data": ("no data", "tidak ada data", "tiada data"),
    "not_available": ("not available yet", "belum tersedia", "belum tersedia"),
    "not_for_role": ("not available for your role", "tidak tersedia untuk peran Anda",
                     "tidak tersedia untuk peranan anda"),
    "period": ("Period", "Periode", "Tempoh"),
    # actions
    "drill_down": ("Rows behind this", "Baris di balik angka ini", "Baris di sebalik angka ini"),
    "export_csv": ("CSV", "CSV", "CSV"),
    "export_xlsx": ("Excel", "Excel", "Excel"),
    "export_rows": ("Export rows", "Ekspor baris", "Eksport baris"),
    "export_data": ("Export figures", "Ekspor angka", "Eksport angka"),
    "previous": ("Previous", "Sebelumnya", "Sebelumnya"),
    "next": ("Next", "Berikutnya", "Seterusnya"),
    "showing": ("Showing {a}–{b} of {n}", "Menampilkan {a}–{b} dari {n}",
                "Memaparkan {a}–{b} daripada {n}"),
    # funnel page
    "stage": ("Stage", "Tahap", "Peringkat"),
    "reached": ("Reached", "Mencapai", "Mencapai"),
    "conversion_to_next": ("Conversion to next", "Konversi ke berikutnya",
                           "Penukaran ke seterusnya"),
    "drop_off": ("Drop-off", "Putus", "Keciciran"),
    "median_days": ("Median days in stage", "Median hari di tahap", "Median hari di peringkat"),
    "time_in_stage": ("Time in stage", "Waktu di tahap", "Masa di peringkat"),
    "funnel_by": ("Funnel by {dim}", "Corong menurut {dim}", "Corong mengikut {dim}"),
    # cohorts
    "cohort": ("Cohort", "Kohort", "Kohort"),
    "conversion_heatmap": ("Stage conversion by cohort", "Konversi tahap per kohort",
                           "Penukaran peringkat mengikut kohort"),
    "lead_conversion_heatmap": ("Lead conversion by cohort and {dim}",
                                "Konversi prospek per kohort dan {dim}",
                                "Penukaran prospek mengikut kohort dan {dim}"),
    "retention_heatmap": ("MRR retention by cohort", "Retensi MRR per kohort",
                          "Pengekalan MRR mengikut kohort"),
    "retention_note": ("Columns: periods since the cohort's first paid subscription; 100% = the "
                       "cohort's MRR in its first period.",
                       "Kolom: periode sejak langganan berbayar pertama kohort; 100% = MRR kohort "
                       "di periode pertamanya.",
                       "Lajur: tempoh sejak langganan berbayar pertama kohort; 100% = MRR kohort "
                       "dalam tempoh pertamanya."),
    "immature_note": ("cohort younger than its conversion window",
                      "kohort lebih muda daripada jendela konversinya",
                      "kohort lebih muda daripada tetingkap penukarannya"),
    "immature_short": ("immature cohort", "kohort belum matang", "kohort belum matang"),
    # periods not over yet, and how a change reads
    "partial_note": ("period not over yet: its figures may still change",
                     "periode belum berakhir: angkanya masih dapat berubah",
                     "tempoh belum tamat: angkanya masih boleh berubah"),
    "partial_short": ("partial period", "periode belum berakhir", "tempoh belum tamat"),
    "include_partial": ("Include the current period", "Sertakan periode berjalan",
                        "Sertakan tempoh semasa"),
    "filter_not_applicable": ("This filter or split does not apply to this figure",
                              "Filter atau pemisahan ini tidak berlaku untuk angka ini",
                              "Penapis atau pecahan ini tidak terpakai untuk angka ini"),
    "axis_cut": ("Axis cut at {cut}: the longer bar is labelled with its value",
                 "Sumbu dipotong di {cut}: batang yang lebih panjang diberi label nilainya",
                 "Paksi dipotong pada {cut}: bar yang lebih panjang dilabel dengan nilainya"),
    "data_ends_page": ("The data ends on {end}: the figures are for its last full periods, up "
                       "to {last}.",
                       "Data berakhir pada {end}: angka untuk periode penuh terakhirnya, sampai "
                       "{last}.",
                       "Data berakhir pada {end}: angka bagi tempoh penuh terakhirnya, hingga "
                       "{last}."),
    "not_comparable": ("not yet comparable", "belum dapat dibandingkan",
                       "belum boleh dibandingkan"),
    "data_ends": ("The data ends on {end}: figures are for its last full periods (as of "
                  "{as_of}); --as-of for another date.",
                  "Data berakhir pada {end}: angka untuk periode penuh terakhirnya (per {as_of}); "
                  "--as-of untuk tanggal lain.",
                  "Data berakhir pada {end}: angka bagi tempoh penuh terakhirnya (setakat "
                  "{as_of}); --as-of untuk tarikh lain."),
    "pp_note": ("pp = percentage points: the difference between two rates, not a relative "
                "change",
                "pp = poin persentase: selisih antara dua tingkat, bukan perubahan relatif",
                "pp = mata peratusan: beza antara dua kadar, bukan perubahan relatif"),
    # revenue / marketing / team
    "mrr_movements": ("MRR movements", "Pergerakan MRR", "Pergerakan MRR"),
    "start_mrr": ("Start MRR", "MRR awal", "MRR awal"),
    "end_mrr": ("End MRR", "MRR akhir", "MRR akhir"),
    "churn": ("Churn", "Churn", "Churn"),
    "attribution": ("Attribution models side by side", "Perbandingan model atribusi",
                    "Perbandingan model atribusi"),
    "credited_revenue": ("Credited revenue", "Pendapatan teratribusi", "Hasil teratribusi"),
    "channel": ("Channel", "Kanal", "Saluran"),
    "spend": ("Spend", "Belanja", "Perbelanjaan"),
    "numerator": ("Numerator", "Pembilang", "Pengangka"),
    "denominator": ("Denominator", "Penyebut", "Penyebut"),
    "marketing_metrics": ("Spend, CPL and CAC", "Belanja, CPL dan CAC", "Perbelanjaan, CPL dan CAC"),
    "model": ("Model", "Model", "Model"),
    "leaderboard": ("Leaderboard", "Papan peringkat", "Papan pendahulu"),
    "rep": ("Rep", "Sales", "Jurujual"),
    "won_amount": ("Won amount", "Nilai menang", "Jumlah dimenangi"),
    "quota": ("Quota", "Kuota", "Kuota"),
    "rank": ("#", "#", "#"),
    "insights": ("Insights", "Wawasan", "Cerapan"),
    # access
    "login": ("Sign in", "Masuk", "Log masuk"),
    "logout": ("Sign out", "Keluar", "Log keluar"),
    "token": ("API token", "Token API", "Token API"),
    "token_help": ("Paste the token `funnelmetrics user add` printed for you.",
                   "Tempel token yang dicetak oleh `funnelmetrics user add` untuk Anda.",
                   "Tampal token yang dicetak oleh `funnelmetrics user add` untuk anda."),
    "bad_token": ("That token is not valid.", "Token itu tidak valid.", "Token itu tidak sah."),
    "signed_in_as": ("{name} ({role})", "{name} ({role})", "{name} ({role})"),
    "rows_forbidden": ("Your role sees aggregates only, not rows.",
                       "Peran Anda hanya melihat agregat, bukan baris.",
                       "Peranan anda hanya melihat agregat, bukan baris."),
    "table": ("Table", "Tabel", "Jadual"),
    "language": ("Language", "Bahasa", "Bahasa"),
}


def t(key: str, lang: str = "en", **values: object) -> str:
    """The interface text `key` in `lang` (English when missing), with `{name}` filled in."""
    texts = TEXTS.get(key)
    if texts is None:
        return key
    index = {"en": 0, "id": 1, "ms": 2}.get(lang, 0)
    text = texts[index]
    return text.format(**values) if values else text
