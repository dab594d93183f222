"""What a DUR check returns, and the text matching the checks share (free-text allergies and
medication lists against drug names, ingredients and interaction groups)."""

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ...models import Finding, Prescription

HIGH, MODERATE, LOW = Finding.Severity.HIGH, Finding.Severity.MODERATE, Finding.Severity.LOW


@dataclass(frozen=True)
class FindingData:
    """One finding as computed (not yet stored): what the API and the admin show."""

    code: str
    severity: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", (text or "").strip().lower())


def contains_term(text: str, term: str) -> bool:
    term = norm(term)
    return bool(term) and re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", norm(text)) is not None


def split_entries(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[\n,;]+", text or "") if e.strip()]


def drug_label(rx: Prescription) -> str:
    return f"{rx.route} {rx.drug}".strip() if rx.route else str(rx.drug)
