"""FHIR code systems and the code tables the import and export map through."""

from decimal import Decimal

from catalog.models import Route

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
DEA_SYSTEMS = {"urn:oid:2.16.840.1.113883.4.814"}
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# SNOMED CT route codes.
ROUTE_CODES = {
    "26643006": Route.ORAL,
    "72607000": Route.INTRATHECAL,
    "404820008": Route.EPIDURAL,
    "47625008": Route.INTRAVENOUS,
    "6064005": Route.TOPICAL,
}
SNOMED_FOR_ROUTE: dict[str, str] = {v: k for k, v in ROUTE_CODES.items()}
TIMING_CODES: dict[str, int | Decimal] = {
    "QD": 1,
    "BID": 2,
    "TID": 3,
    "QID": 4,
    "QOD": Decimal("0.5"),
    "Q4H": 6,
    "Q6H": 4,
    "Q8H": 3,
    "Q12H": 2,
    "AM": 1,
    "PM": 1,
}
PER_DAY = {
    "s": Decimal(86400),
    "min": Decimal(1440),
    "h": Decimal(24),
    "d": Decimal(1),
    "wk": Decimal(1) / 7,
    "mo": Decimal(1) / 30,
    "a": Decimal(1) / 365,
}
DAYS_IN = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}
DOSE_UNITS = {
    "mg": "mg",
    "mcg": "mcg",
    "ug": "mcg",
    "µg": "mcg",
    "ml": "mL",
    "tablet": "unit",
    "tab": "unit",
    "{tbl}": "unit",
    "{tablet}": "unit",
    "capsule": "unit",
    "{capsule}": "unit",
    "ampule": "unit",
    "vial": "unit",
    "{each}": "unit",
    "each": "unit",
    "1": "unit",
}
ACCEPTED_INTENTS = {"order", "original-order", "instance-order", "filler-order", "reflex-order"}
URGENT_PRIORITIES = {"urgent", "asap", "stat"}
