"""Accounts (the companies leads work for) and the sales team (reps, teams, managers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.sink import Columns, ids, labels, numbered

TEAMS = ("Jakarta SMB", "Jakarta Mid-Market", "KL SMB", "KL Mid-Market", "Singapore Commercial",
         "Enterprise")
TEAM_REGION = ("Indonesia", "Indonesia", "Malaysia", "Malaysia", "Singapore", "APAC")
FIRST_NAMES = ("Adi", "Ahmad", "Aisyah", "Amir", "Anita", "Arif", "Bayu", "Budi", "Chandra",
               "Daniel", "Dewi", "Dian", "Eko", "Farah", "Fajar", "Hafiz", "Hana", "Indra", "Intan",
               "Joko", "Kumar", "Lestari", "Mei Ling", "Nurul", "Putri", "Rahman", "Rina", "Rizky",
               "Sari", "Siti", "Suresh", "Tan", "Wei Jie", "Wulan", "Yusuf", "Zainal", "Priya",
               "Hui Min", "Ravi", "Kevin")
LAST_NAMES = ("Wijaya", "Santoso", "Halim", "Pratama", "Hidayat", "Lim", "Tan", "Ng", "Wong",
              "Abdullah", "Ismail", "Rahman", "Nair", "Pillai", "Kusuma", "Saputra", "Gunawan",
              "Setiawan", "Chua", "Lee", "Ong", "Hassan", "Yusof", "Osman", "Sutanto", "Tanoto",
              "Menon", "Harahap", "Siregar", "Lubis")
NAME_WORDS = ("Maju", "Sinar", "Jaya", "Mitra", "Nusantara", "Harapan", "Cahaya", "Global",
              "Prima", "Sentosa", "Makmur", "Bintang", "Abadi", "Mega", "Indah", "Gemilang",
              "Bersatu", "Delta", "Lautan", "Samudera", "Garuda", "Rajawali", "Permata", "Mutiara",
              "Pelangi", "Suria", "Cemerlang", "Setia", "Anugerah", "Berkat", "Kencana", "Surya",
              "Tunas", "Citra", "Karya", "Lintas", "Asia", "Pacific", "Straits", "Merlion")
INDUSTRY_WORDS = (("Teknologi", "Digital", "Systems"), ("Kapital", "Finance", "Sekuritas"),
                  ("Retail", "Niaga", "Commerce"), ("Industri", "Manufaktur", "Engineering"),
                  ("Logistik", "Express", "Freight"), ("Medika", "Health", "Farma"),
                  ("Edukasi", "Learning", "Academy"), ("Konsultan", "Advisory", "Partners"),
                  ("Media", "Telekomunikasi", "Network"), ("Hospitality", "Resort", "Kuliner"))
LEGAL_PREFIX = ("PT ", "", "", "", "", "")
LEGAL_SUFFIX = ("", " Sdn Bhd", " Pte Ltd", " Inc.", " Co., Ltd.", " JSC")


@dataclass(frozen=True)
class Accounts:
    """Companies; each lead belongs to one, and leads inherit its segment, country and industry."""

    segment: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    leads: np.ndarray  # how many leads each account brings
    name_word: np.ndarray
    name_kind: np.ndarray

    @property
    def size(self) -> int:
        """Number of accounts."""
        return int(self.segment.size)

    @property
    def team(self) -> np.ndarray:
        """The sales team that owns each account (by segment and country)."""
        seg, ctry = self.segment, self.country
        return np.select(
            [seg == 2, (ctry == 0) & (seg == 0), (ctry == 0) & (seg == 1), (ctry == 1) & (seg == 0),
             (ctry == 1) & (seg == 1)], [5, 0, 1, 2, 3], default=4).astype(np.int8)


def draw_accounts(rng: np.random.Generator, leads: int) -> Accounts:
    """Companies whose lead counts add up to exactly `leads`."""
    n = max(16, int(leads / 1.8))
    while True:
        employees = np.clip(np.round(A.EMPLOYEES_MEDIAN * np.exp(
            rng.normal(0.0, A.EMPLOYEES_SIGMA, n))), 2, 250_000).astype(np.int64)
        segment = np.searchsorted(A.SEGMENT_FROM_EMPLOYEES, employees, side="right").astype(
            np.int8)
        extra = A.EXTRA_LEADS_PER_ACCOUNT[segment]
        counts = rng.geometric(1.0 / (1.0 + extra)).astype(np.int64)  # 1 + geometric extras
        total = np.cumsum(counts)
        if total[-1] >= leads:
            break
        n *= 2
    keep = int(np.searchsorted(total, leads)) + 1
    counts = counts[:keep]
    counts[-1] -= total[keep - 1] - leads
    segment, employees = segment[:keep], employees[:keep]
    country = _choose_by(rng, segment, A.COUNTRY_MIX)
    return Accounts(segment=segment, country=country,
                    industry=rng.choice(len(A.INDUSTRIES), keep, p=A.INDUSTRY_MIX).astype(np.int8),
                    employees=employees, leads=counts,
                    name_word=rng.integers(0, len(NAME_WORDS), keep).astype(np.int16),
                    name_kind=rng.integers(0, 3, keep).astype(np.int8))


def _choose_by(rng: np.random.Generator, group: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the mix of the row's group."""
    out = np.empty(group.size, dtype=np.int8)
    for g in range(mix.shape[0]):
        rows = np.flatnonzero(group == g)
        out[rows] = rng.choice(mix.shape[1], rows.size, p=mix[g] / mix[g].sum())
    return out


@dataclass(frozen=True)
class Reps:
    """The sales organisation: a head of sales, one manager per team, quota-carrying reps."""

    names: tuple[str, ...]
    team: np.ndarray  # team code; -1 for the head of sales
    manager: np.ndarray  # rep index of the manager; -1 for the head of sales
    quota: np.ndarray  # carries a quota and owns accounts
    skill: np.ndarray  # multiplier on the rep's win probability

    @property
    def size(self) -> int:
        """Number of people in the sales organisation."""
        return len(self.names)

    def members(self, team: int) -> np.ndarray:
        """Indexes of the quota reps of a team."""
        return np.flatnonzero(self.quota & (self.team == team))


def rep_count(leads: int) -> int:
    """20 reps for a small company, up to 60 for a large one."""
    return int(np.clip(round(20 + 10 * np.log10(max(leads, 2000) / 2000)), 20, 60))


def draw_reps(rng: np.random.Generator, leads: int, team_load: np.ndarray) -> Reps:
    """Reps spread over the teams in proportion to each team's lead volume."""
    n_quota = rep_count(leads) - 1 - len(TEAMS)
    share = team_load / team_load.sum() * (n_quota - len(TEAMS))
    per_team = 1 + np.floor(share).astype(np.int64)
    remainder = n_quota - per_team.sum()
    per_team[np.argsort(-(share - np.floor(share)), kind="stable")[:remainder]] += 1
    team = np.concatenate([[-1], np.arange(len(TEAMS)),
                           np.repeat(np.arange(len(TEAMS)), per_team)]).astype(np.int8)
    manager = np.where(np.arange(team.size) <= len(TEAMS), 0, 1 + team.clip(0)).astype(np.int16)
    manager[0] = -1
    quota = np.arange(team.size) > len(TEAMS)
    skill = np.where(quota, np.exp(rng.normal(0.0, 0.12, team.size)), 1.0)
    laggard = 1 + len(TEAMS) + int(rng.integers(0, per_team[0]))  # one struggling Jakarta SMB rep
    skill[laggard] *= 0.6
    picks = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), team.size, replace=False)
    names = tuple(f"{FIRST_NAMES[p // len(LAST_NAMES)]} {LAST_NAMES[p % len(LAST_NAMES)]}"
                  for p in picks)
    return Reps(names=names, team=team, manager=manager, quota=quota, skill=skill)


def assign_owners(rng: np.random.Generator, accounts: Accounts, reps: Reps) -> np.ndarray:
    """The rep that owns each account: one of the quota reps of the account's team."""
    owner = np.empty(accounts.size, dtype=np.int16)
    team = accounts.team
    for t in range(len(TEAMS)):
        rows = np.flatnonzero(team == t)
        members = reps.members(t)
        owner[rows] = members[rng.integers(0, members.size, rows.size)]
    return owner


def rep_ids(index: np.ndarray) -> pa.Array:
    """Rep ids (R001 …); negative indexes become null."""
    return numbered("R", index, 3)


def account_ids(index: np.ndarray, n_accounts: int) -> pa.Array:
    """Account ids (A000001 …)."""
    return ids("A", index + 1, max(6, len(str(n_accounts))))


def company_names(accounts: Accounts) -> pa.Array:
    """Plausible company names: a word, an industry word and the country's legal form."""
    words = pa.array(NAME_WORDS).take(pa.array(accounts.name_word))
    kinds = pa.array([w for triple in INDUSTRY_WORDS for w in triple])
    kind = kinds.take(pa.array(accounts.industry.astype(np.int64) * 3 + accounts.name_kind))
    prefix = pa.array(LEGAL_PREFIX).take(pa.array(accounts.country))
    suffix = pa.array(LEGAL_SUFFIX).take(pa.array(accounts.country))
    return pc.binary_join_element_wise(prefix, words, " ", kind, suffix, "")


def accounts_table(accounts: Accounts, created: np.ndarray) -> Columns:
    """The accounts table (SPEC §2)."""
    index = np.arange(accounts.size)
    return {
        "account_id": account_ids(index, accounts.size), "name": company_names(accounts),
        "industry": labels(A.INDUSTRIES, accounts.industry),
        "segment": labels(A.SEGMENTS, accounts.segment),
        "country": labels(A.COUNTRIES, accounts.country), "created_at": created,
        "employees": accounts.employees.astype(np.float64),
    }


def reps_table(reps: Reps) -> Columns:
    """The reps table (SPEC §2)."""
    team = np.where(reps.team < 0, len(TEAMS), reps.team)
    return {
        "rep_id": rep_ids(np.arange(reps.size)), "name": pa.array(reps.names),
        "team": labels((*TEAMS, "Leadership"), team),
        "region": labels((*TEAM_REGION, "APAC"), team),
        "manager_id": rep_ids(reps.manager.astype(np.int64)),
    }
