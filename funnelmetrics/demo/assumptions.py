"""The numbers that shape the demo world: a B2B SaaS company selling in ID, MY and SG.

Rates are per step of the funnel and deliberately in the ranges B2B SaaS benchmarks quote
(lead→MQL 25–60 %, MQL→SQL 30–55 %, SQL→opportunity ~55 %, win rate 20–30 %, monthly logo churn
1–4 %); mixes are shares that sum to 1. Arrays are indexed by the codes of the tuples below.
"""

from __future__ import annotations

import numpy as np

SOURCES = ("organic", "paid_search", "paid_social", "referral", "events", "outbound", "partner",
           "email")
SOURCE = {name: code for code, name in enumerate(SOURCES)}
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
COUNTRIES = ("ID", "MY", "SG", "PH", "TH", "VN")
INDUSTRIES = ("Software & IT", "Financial Services", "Retail & E-commerce", "Manufacturing",
              "Logistics", "Healthcare", "Education", "Professional Services", "Media & Telco",
              "Hospitality")
LEAD_TYPES = ("sales", "product")
STAGES = ("lead", "mql", "sql", "opportunity", "won", "signup", "activated", "trial", "paid")
STAGE = {name: code for code, name in enumerate(STAGES)}

# ---- accounts ------------------------------------------------------------------------------
EMPLOYEES_MEDIAN, EMPLOYEES_SIGMA = 70.0, 1.75  # ~73 % SMB, ~21 % Mid-Market, ~6 % Enterprise
SEGMENT_FROM_EMPLOYEES = (200, 1000)  # SMB below 200 staff, Enterprise from 1000
EXTRA_LEADS_PER_ACCOUNT = np.array([0.6, 2.0, 6.0])  # bigger companies bring more contacts
COUNTRY_MIX = np.array([  # by segment
    [0.49, 0.28, 0.15, 0.03, 0.03, 0.02],
    [0.46, 0.27, 0.19, 0.03, 0.03, 0.02],
    [0.34, 0.22, 0.34, 0.04, 0.03, 0.03],
])
INDUSTRY_MIX = np.array([0.18, 0.12, 0.14, 0.12, 0.09, 0.07, 0.06, 0.10, 0.06, 0.06])
COMPANY_SIZES = ("1-50", "51-200", "201-1000", "1001-5000", "5001+")
COMPANY_SIZE_EDGES = np.array([51, 201, 1001, 5001])

# ---- leads ---------------------------------------------------------------------------------
PRODUCT_SHARE = np.array([0.18, 0.05, 0.01])  # self-serve sign-ups, by segment
SOURCE_MIX_SALES = np.array([  # by segment
    [0.24, 0.22, 0.18, 0.08, 0.05, 0.08, 0.05, 0.10],
    [0.18, 0.16, 0.10, 0.10, 0.10, 0.16, 0.08, 0.12],
    [0.10, 0.08, 0.04, 0.12, 0.16, 0.30, 0.12, 0.08],
])
SOURCE_MIX_PRODUCT = np.array([0.45, 0.25, 0.15, 0.10, 0.0, 0.0, 0.0, 0.05])
UTM_MEDIUM = ("organic", "cpc", "paid_social", "referral", "event", None, "partner", "email")
UTM_UNTRACKED = 0.12  # leads whose UTM tags were lost
CAMPAIGN_TAGGED = 0.9  # leads of a campaign channel that carry the campaign id

# ---- sales-led funnel ----------------------------------------------------------------------
P_MQL = np.array([0.42, 0.36, 0.24, 0.60, 0.33, 0.30, 0.50, 0.30])  # by source
P_MQL_SEGMENT = np.array([1.0, 1.05, 1.1])
P_SQL = np.array([0.42, 0.40, 0.29, 0.57, 0.38, 0.52, 0.50, 0.36])  # by source
P_OPPORTUNITY = np.array([0.56, 0.53, 0.50])  # by segment
P_WIN = np.array([0.30, 0.24, 0.19])  # by segment
WIN_SOURCE = np.array([1.05, 1.0, 0.8, 1.4, 0.95, 0.85, 1.25, 0.95])
WIN_INDUSTRY = np.array([1.1, 0.8, 1.05, 0.95, 1.0, 0.9, 1.0, 1.05, 0.95, 1.1])
SKIP_MQL = np.array([0.04, 0.04, 0.04, 0.35, 0.15, 0.60, 0.35, 0.04])  # straight to SQL
SKIP_SQL = 0.06  # opportunity opened without an SQL event
LEAD_EVENT_SHARE = 0.15  # leads whose CRM also logged an explicit 'lead' stage event
REQUALIFY_SHARE = 0.12  # MQLs re-scored later: a second 'mql' event
DELAY_DAYS = {"mql": (1.5, 1.1), "sql": (5.0, 0.9), "opportunity": (8.0, 0.8),
              "requalify": (20.0, 0.6)}  # (median days, lognormal sigma)
TREND_PER_YEAR = 0.04  # lead→MQL improves slowly as targeting gets better
# A recent leak for the insights to find: paid-social MQLs stop turning into SQLs.
BOTTLENECK_SOURCE, BOTTLENECK_DAYS, BOTTLENECK_FACTOR = SOURCE["paid_social"], 75, 0.55

# ---- deals ---------------------------------------------------------------------------------
CLOSE_DAYS = np.array([24.0, 48.0, 95.0])  # median days opportunity→won, by segment
CLOSE_SIGMA, LOST_SPEED, LOST_SIGMA = 0.55, 0.8, 0.8
MAX_DEAL_DAYS = 450  # deals older than this are closed lost by pipeline hygiene
QUARTER_END_PUSH, QUARTER_END_REACH_DAYS = 0.4, 35  # deals pulled into the quarter's last week
SECOND_OPPORTUNITY_SHARE = 0.03
SECOND_OPPORTUNITY_DAYS = (45, 240)
ANNUAL_VALUE = np.array([2_800.0, 13_000.0, 50_000.0])  # median USD per year, by segment
ANNUAL_SIGMA = np.array([0.5, 0.5, 0.6])
CONTRACT_MONTHS = np.array([1, 6, 12, 24, 36])
CONTRACT_MIX = np.array([
    [0.12, 0.08, 0.70, 0.07, 0.03],
    [0.02, 0.05, 0.73, 0.12, 0.08],
    [0.00, 0.00, 0.60, 0.20, 0.20],
])
DEAL_STAGES = ("discovery", "demo", "proposal", "negotiation", "closed")
OPEN_PROBABILITY = np.array([0.10, 0.25, 0.45, 0.65])  # by open deal stage
LOST_AT_STAGE = np.array([0.35, 0.30, 0.22, 0.13])  # last stage a lost deal reached
SKIP_DEMO, SKIP_NEGOTIATION_SMB = 0.12, 0.35
LOST_REASONS = ("price", "competitor", "no_decision", "timing", "features")
LOST_MIX = np.array([0.28, 0.22, 0.25, 0.15, 0.10])
EXPECTED_CLOSE_SIGMA, MAX_EXPECTED_CLOSE_DAYS = 0.3, 540
CURRENCIES = ("USD", "IDR", "MYR", "SGD")
LOCAL_CURRENCY_SHARE = np.array([0.15, 0.15, 0.0, 0.0, 0.0, 0.0])  # by country (ID→IDR, MY→MYR)
LOCAL_CURRENCY = np.array([1, 2, 3, 0, 0, 0])
CURRENCY_ROUNDING = np.array([10.0, 100_000.0, 10.0, 10.0])

# ---- product-led funnel --------------------------------------------------------------------
SIGNUP_EVENT_SHARE = 0.92
P_ACTIVATED, P_TRIAL, P_PAID_AFTER_TRIAL, P_PAID_DIRECT = 0.55, 0.40, 0.28, 0.03
TRIAL_DAYS = 14
PRODUCT_DELAY_DAYS = {"activated": (0.3, 1.2), "trial": (3.0, 1.0), "paid": (1.0, 1.0),
                      "direct": (7.0, 1.0)}
PRODUCT_MRR, PRODUCT_MRR_SIGMA = 99.0, 0.5

# ---- subscriptions -------------------------------------------------------------------------
PLANS = ("Starter", "Growth", "Business", "Enterprise")  # product-led, then by segment
MONTHLY_CHURN = np.array([0.045, 0.026, 0.016, 0.008])  # by plan
MONTHLY_UPGRADE = np.array([0.04, 0.03, 0.035, 0.03])
MONTHLY_DOWNGRADE = np.array([0.02, 0.012, 0.012, 0.01])
UPGRADE_FACTOR, DOWNGRADE_FACTOR = (1.15, 1.8), (0.6, 0.9)
REACTIVATION_SHARE, REACTIVATION_DAYS = 0.18, (60, 270)
MONTH_ALIGNED_BILLING = 0.3  # subscriptions whose changes happen at 00:00 on the 1st

# ---- engagement ----------------------------------------------------------------------------
EVENTS = ("login", "report_viewed", "api_call", "seat_added")
EVENT_MIX = np.array([0.55, 0.25, 0.16, 0.04])
EVENT_WEIGHT = np.array([1.0, 2.0, 0.5, 5.0])
EVENTS_PER_MONTH = np.array([8.0, 15.0, 25.0, 40.0])  # by plan; ~20 on average
EVENTS_CAP_PER_MONTH = 80
ENGAGEMENT_SIGMA = 0.4  # account-to-account spread

# ---- touchpoints ---------------------------------------------------------------------------
TOUCH_TYPES = ("impression", "click", "visit", "form")
TOUCH_MIX = np.array([  # by channel, for touches other than the converting form
    [0.05, 0.15, 0.75, 0.05],
    [0.35, 0.50, 0.10, 0.05],
    [0.50, 0.35, 0.10, 0.05],
    [0.00, 0.20, 0.75, 0.05],
    [0.00, 0.10, 0.80, 0.10],
    [0.30, 0.50, 0.15, 0.05],
    [0.05, 0.25, 0.65, 0.05],
    [0.40, 0.50, 0.05, 0.05],
])
CHANNEL_MIX = np.array([0.30, 0.20, 0.20, 0.05, 0.05, 0.02, 0.03, 0.15])
NO_TOUCH = np.array([0.05, 0.03, 0.03, 0.20, 0.10, 0.35, 0.15, 0.05])  # by source
FIRST_TOUCH_IS_SOURCE, OTHER_TOUCH_IS_SOURCE = 0.7, 0.35
FORM_TOUCH_SHARE = 0.6  # inbound leads whose creating form fill is itself a touch
TOUCH_LEAD_DAYS, TOUCH_LEAD_SIGMA, TOUCH_LEAD_MAX_DAYS = 5.0, 1.1, 90
TOUCH_AFTER_DAYS = 21  # touches continue this long after creation for leads that do not convert
TIE_SHARE = 0.05  # touches logged at the same instant as the previous one (another channel)

# ---- money: marketing cost per lead of each channel and sales cost per lead (USD) ---------
CPL = np.array([0.0, 95.0, 65.0, 0.0, 230.0, 0.0, 0.0, 14.0])  # campaign channels
CHANNEL_MONTHLY = {"organic": 30.0, "partner": 140.0, "outbound": 45.0}  # per lead of channel
MARTECH_PER_LEAD, SALES_TOOLS_PER_LEAD, SALARIES_PER_LEAD = 8.0, 15.0, 250.0
LEAD_SHARE_BY_SOURCE = np.array([0.24, 0.19, 0.14, 0.09, 0.08, 0.12, 0.07, 0.07])  # approx.
