"""Drug utilization review (DUR): compute findings for a prescription from data.

Every limit comes from the catalogue (``DrugRoute`` limits, ``DrugInteraction`` rows, the
drug's pregnancy category, lactation note, schedule and interaction groups) or from settings
(``RX_EARLY_REFILL_THRESHOLD``, ``RX_NONCONTROLLED_EXPIRY_DAYS``). Nothing clinical is a
constant in this package.

Dates are the pharmacy's calendar day (``PHARMACY_TIME_ZONE``, ``core.shipping.pharmacy_today``),
not UTC. One module per kind of check: ``record`` (PN, XP, RL, PD, ER; early refill counts the
patient's fills of the drug under any prescription), ``dosing`` (HD, LD, DC, PA, RI, EX),
``patient`` (PG, NR, DA), ``medications`` (the patient's current medications; DD/AT, TD),
``text`` (what a typed medication list names, read against the drug vocabulary: the catalogue's
drugs and brand names, ``DrugTerm`` ingredients and brands with their interaction classes;
negated entries such as "no alcohol" name nothing).
``runner`` runs them all (``dur_check``) and stores the findings (``prescription_findings_refresh``).

Codes are NCPDP DUR conflict codes where one exists:

====  ===================================================================
HD    daily dose above the route's maximum          (high)
LD    daily dose below the route's minimum          (moderate)
PA    patient younger than the route's minimum age  (high)
RI    renal impairment and the route has renal data (moderate; high above the route's renal maximum)
PG    pregnancy                                     (by FDA category)
NR    lactation                                     (moderate)
DA    drug allergy                                  (high)
DD/AT drug-drug interaction / additive toxicity     (the interaction's severity)
TD    therapeutic duplication                       (moderate)
ER    early refill                                  (moderate)
EX    excessive quantity                            (moderate)
====  ===================================================================

and ours for what NCPDP does not code:

====  ===================================================================
XP    prescription expired                          (high)
PD    written date in the future (post-dated)       (high for a controlled drug, 21 CFR 1306.05(a); moderate)
RL    refills beyond the controlled schedule's limit (high)
PN    prescriber NPI/DEA missing or failing its check digit (high; DEA initial: low)
DC    daily dose could not be checked (data missing) (low)
====  ===================================================================
"""

from .findings import FindingData
from .medications import current_medications
from .runner import DurContext, dur_check, prescription_findings_refresh
from .text import CurrentMedication

__all__ = [
    "CurrentMedication",
    "DurContext",
    "FindingData",
    "current_medications",
    "dur_check",
    "prescription_findings_refresh",
]
