"""Read what people type about their medicines against a drug vocabulary (pure: no ORM).

A vocabulary is a set of ``Term`` (an ingredient or a brand name, the ingredient it stands for,
its interaction classes), built from ``catalog.models.DrugTerm`` rows by the caller. ``find_terms``
returns the terms an entry such as "alprazolam 0.5 mg", "Tramadol HCl 50mg tablets" or "Xanax XR"
names, skipping a term the entry negates ("no alcohol", "denies alcohol", "not taking tramadol",
"stopped oxycodone"). Strengths, forms and salts around a name need no rule of their own: a term
matches as a whole word, whatever surrounds it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Words that, earlier in the same clause, say the patient does not take what follows.
NEGATIONS = (
    "no",
    "not",
    "non",
    "none",
    "never",
    "denies",
    "denied",
    "deny",
    "without",
    "stopped",
    "quit",
    "discontinued",
    "off",
    "nil",
    "negative",
    "avoids",
    "abstains",
)
# ...and after the term ("alcohol: none", "tramadol - stopped").
TRAILING_NEGATIONS = ("none", "stopped", "discontinued", "denied", "nil", "negative", "free")
LAST_WORD_NEGATIONS = ("no", "never")
# Limits in a sig, not negations.
SIG_LIMITS = re.compile(r"\b(?:no|not) (?:more|greater|higher) than\b|\bnot (?:to )?exceed\b")
CLAUSE_BREAKS = re.compile(r"\b(?:but|and|however|though|although|now|currently|since|except)\b|\.(?!\d)|[:()]")


@dataclass(frozen=True)
class Term:
    """A name a medicine is written under and what the checks know about it."""

    name: str
    ingredient: str
    classes: frozenset[str]


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[Term, ...]
    pattern: re.Pattern[str] | None
    by_name: dict[str, Term]


def normalize(text: str) -> str:
    """Lower case, separators as spaces, a space between a word and a number ("50mg" -> "50 mg")."""
    text = (text or "").lower()
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return re.sub(r"[\s_\-/+]+", " ", text).strip()


def vocabulary(terms: Iterable[Term]) -> Vocabulary:
    """Compile ``terms`` once (cached by content: the DUR calls this on every check). Of two terms
    written the same way, the first one given wins."""
    return _compile(tuple(terms))


@lru_cache(maxsize=16)
def _compile(terms: tuple[Term, ...]) -> Vocabulary:
    by_name: dict[str, Term] = {}
    for term in terms:
        if normalize(term.name):
            by_name.setdefault(normalize(term.name), term)
    if not by_name:
        return Vocabulary(terms, None, {})
    names = sorted(by_name, key=len, reverse=True)  # longest first: "ms contin" before "ms"
    # A plural ("benzodiazepines", "opioids") names the same term.
    pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(n) for n in names) + r")(?:e?s)?(?![a-z0-9])")
    return Vocabulary(terms, pattern, by_name)


def negated(clause: str, start: int, end: int) -> bool:
    """True when one of the three words before ``start`` (within its clause) negates, or the word
    right after ``end`` does ("alcohol: none", "alcohol-free"; "no"/"never" only as the last word).
    Read narrowly: a missed medication is worse than a finding the pharmacist overrides, so a sig
    limit ("no more than 2 Xanax a day") or a remark ("Xanax no side effects") negates nothing."""
    before = clause[:start]
    breaks = list(CLAUSE_BREAKS.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    before = SIG_LIMITS.sub(" ", before)
    words = re.findall(r"[a-z']+", before)[-3:]
    if set(words) & set(NEGATIONS) or any(w.endswith(("n't", "dont", "doesnt", "didnt", "isnt")) for w in words):
        return True
    after = re.findall(r"[a-z']+", clause[end:])
    if not after:
        return False
    return after[0] in TRAILING_NEGATIONS or (len(after) == 1 and after[0] in LAST_WORD_NEGATIONS)


def find_terms(entry: str, vocab: Vocabulary) -> list[Term]:
    """Return the terms ``entry`` names and does not negate, in the order written, each once."""
    if vocab.pattern is None:
        return []
    text = normalize(entry)
    found: list[Term] = []
    for match in vocab.pattern.finditer(text):
        term = vocab.by_name[match.group(1)]
        if term in found or negated(text, match.start(), match.end()):
            continue
        found.append(term)
    return found
