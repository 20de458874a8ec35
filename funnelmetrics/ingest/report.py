"""What a load did: rows read, accepted and rejected per table and file, and the problems found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnelmetrics.errors import InputError


@dataclass(frozen=True)
class Problem:
    """One broken rule on one row: where it is (file, row, column) and why (code, reason)."""

    file: str
    row: int
    column: str
    code: str
    reason: str
    value: str | None


@dataclass
class TableReport:
    """Counts for one table (or one file); `accepted + rejected == rows` always."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0  # rows of the files a preset left out on purpose (not in `rows`)
    removed: int = 0  # stored rows removed by --replace-missing (not in the new export)

    def add(self, other: TableReport) -> None:
        self.rows += other.rows
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.skipped += other.skipped

    def to_json(self) -> dict[str, int]:
        """Rows, accepted, rejected; skipped and removed only when there are any."""
        out = {"rows": self.rows, "accepted": self.accepted, "rejected": self.rejected}
        out |= {k: v for k, v in (("skipped", self.skipped), ("removed", self.removed)) if v}
        return out


@dataclass
class FileReport(TableReport):
    """Counts for one file, with the table it went to and its quarantine file (if any)."""

    path: Path = Path()
    table: str = ""
    quarantine: Path | None = None
    skip_reason: str | None = None
    via: str | None = None  # "preset hubspot-deals", "mapping deals.toml" (None: canonical file)
    preview: list[dict[str, Any]] = field(default_factory=list)  # dry runs: first rows stored


@dataclass
class LoadReport:
    """The result of `funnelmetrics.ingest.load` (SPEC §5 `ingest --format json`).

    `quarantine` says where rejected rows are: the quarantine CSV when one file had rejected
    rows, the quarantine directory when several did, None when none did (or for a dry run).
    Every rejected row is also in the `_quarantine` table. `problems` holds the first
    `MAX_PROBLEMS` problem lines (`problems_truncated` says when there are more).
    """

    tables: dict[str, TableReport] = field(default_factory=dict)
    files: list[FileReport] = field(default_factory=list)
    quarantine: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    problems_truncated: bool = False
    dry_run: bool = False
    removed: dict[str, int] = field(default_factory=dict)  # --replace-missing, per table

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tables.values())

    def to_json(self) -> dict[str, Any]:
        """`{"tables": {NAME: {"rows", "accepted", "rejected"}}, "quarantine": PATH}` (SPEC §5)."""
        return {
            "tables": {name: t.to_json() for name, t in self.tables.items()},
            "quarantine": str(self.quarantine) if self.quarantine is not None else None,
        }


class RejectedRowsError(InputError):
    """Strict mode: some rows broke a rule, so nothing was loaded. Carries the full report."""

    def __init__(self, message: str, report: LoadReport) -> None:
        super().__init__(message)
        self.report = report
