"""What the patient's typed medication list names: each entry read against the drug vocabulary
(``catalog.vocabulary``) built from the catalogue's drugs (names, ingredients, brand names), the
vocabulary's terms (``DrugTerm``: ingredients and brands with their interaction classes) and the
interaction classes themselves ("some CNS depressant"). A negated entry ("no alcohol", "not
taking tramadol") names nothing."""

from dataclasses import dataclass
from typing import cast

from catalog.models import Drug, DrugInteraction, DrugTerm
from catalog.vocabulary import Term, Vocabulary, find_terms, vocabulary

from ...models import Prescription
from .findings import contains_term, norm, split_entries

ROUTE_WORDS = tuple(value for value, _ in cast(list[tuple[str, str]], Prescription._meta.get_field("route").choices))


@dataclass(frozen=True)
class CurrentMedication:
    """A medication the patient takes, from a linked product, free text or another prescription."""

    label: str
    ingredient: str
    groups: frozenset[str]
    route: str
    drug_id: int | None
    source: str


@dataclass(frozen=True)
class TextVocabulary:
    """The compiled vocabulary, and the catalogue drug (id, groups) of each ingredient it has."""

    terms: Vocabulary
    catalogue: dict[str, tuple[int, frozenset[str]]]


def text_vocabulary() -> TextVocabulary:
    """Read the vocabulary (three queries); catalogue drugs first, so they win a shared name."""
    terms: list[Term] = []
    catalogue: dict[str, tuple[int, frozenset[str]]] = {}
    groups: set[str] = set()
    drugs = Drug.objects.order_by("pk").values_list(
        "pk", "name", "active_ingredient", "interaction_groups", "brand_names"
    )
    for pk, name, ingredient, drug_groups, brands in drugs:
        own = frozenset(map(norm, drug_groups))
        catalogue.setdefault(norm(ingredient), (pk, own))
        groups |= own
        terms += [Term(word, norm(ingredient), own) for word in (ingredient, name, *brands) if word]
    for name, ingredient, classes in DrugTerm.objects.order_by("pk").values_list("name", "ingredient", "classes"):
        terms.append(Term(name, norm(ingredient or name), frozenset(map(norm, classes))))
        groups |= set(map(norm, classes))
    groups |= {norm(t) for t in DrugInteraction.objects.values_list("interacts_with", flat=True).distinct()}
    terms += [Term(group, group, frozenset({group})) for group in sorted(groups)]
    return TextVocabulary(vocabulary(terms), catalogue)


def medications_from_text(text: str) -> list[CurrentMedication]:
    """The medications each entry of ``text`` names (one per ingredient), with their classes."""
    entries = split_entries(text)
    if not entries:
        return []
    vocab = text_vocabulary()
    meds: list[CurrentMedication] = []
    for entry in entries:
        route = next((r for r in ROUTE_WORDS if contains_term(entry, r)), "")
        seen: set[str] = set()
        for term in find_terms(entry, vocab.terms):
            if term.ingredient in seen:
                continue
            seen.add(term.ingredient)
            drug_id, drug_groups = vocab.catalogue.get(term.ingredient, (None, frozenset[str]()))
            meds.append(
                CurrentMedication(
                    label=f'"{entry}" (patient\'s medication list)',
                    ingredient=term.ingredient,
                    groups=term.classes | drug_groups,
                    route=route,
                    drug_id=drug_id,
                    source="text",
                )
            )
    return meds
