"""rx business rules, one module per concern. Services are the only writers of rx state.

What the shop calls or registers for prescriptions (shop -> rx; rx never imports shop):

Getting prescriptions in (each returns the ``Prescription``, status received):
    uploads.prescription_upload(user=, patient_id=, file=, notes="", request=None)
    prescriptions.prescription_transfer_request(user=, patient_id=, prescriber={name, npi, ...}, product_id=None, ...)
    fhir.medication_request_import(payload=, user=, request=None)
  Link the returned prescription to the order's prescription lines on the shop side.

Gating an order line:
    coverage.prescription_find_cover(patient=, product=, quantity=, on=None) -> Prescription | None
    coverage.prescription_cover_problems(patient=, product=, quantity=, on=None) -> list[str]  (why not)
    dur.dur_check(prescription=, quantity=line quantity, context=DurContext(reference="order:PH-..."))
  Filling it (atomic; the loser of a race for the last refill gets PrescriptionExhausted, 409,
  ``data["reason"]``; the same ``reference`` twice returns the first Dispense):
    coverage.prescription_fill(prescription_id=, quantity=, reference="order:PH-...:line:N", days_supply=None,
                               product=None, dispensed_by=None, prepared_at=None) -> Dispense
    coverage.dispense_hand_over(dispense_id=, at=None)

Answering a request for information (owner only; needs_information -> received):
    responses.prescription_respond(user=, prescription_id=, message=, file=None, request=None)

Queue urgency (pump refill kits first):
    prescriptions.prescription_mark_urgent(prescription_id=, reason=)

Extension points (settings listing dotted paths, loaded with ``core.extensions.hooks``):
    RX_SELF_VERIFICATION_CHECKS   # fn(prescription, user) -> True blocks user
    RX_REVIEW_CONTEXT_PROVIDERS   # fn(prescription, user) -> {"title", "rows": [...]}
Signals (sent after commit), in ``rx.signals``:
    prescription_status_changed(prescription_id, from_status, to_status)
    prescription_decided(prescription_id, decision_id, action)
"""
