"""The order state machine as data (shop.state): the map, its groups, the happy path. No database.
(Moving an order along it: services/test_transitions.py.)"""

from shop.state import (
    CANCELLABLE,
    PAYABLE,
    REFUNDABLE,
    TERMINAL,
    TRANSITIONS,
    OrderStatus,
    allowed_targets,
    can_transition,
)

ALL = [s.value for s in OrderStatus]


def test_the_map_names_every_status_and_only_known_ones():
    assert set(TRANSITIONS) == set(ALL)
    assert all(set(targets) <= set(ALL) for targets in TRANSITIONS.values())


def test_the_happy_path_is_a_chain_of_allowed_moves():
    path = [
        "pending_payment",
        "paid",
        "awaiting_prescription_review",
        "ready_to_fulfil",
        "fulfilling",
        "shipped",
        "delivered",
    ]
    assert all(can_transition(a, b) for a, b in zip(path, path[1:], strict=False))


def test_groups_derived_from_the_map():
    assert TERMINAL == {"cancelled", "expired", "refunded"}
    assert PAYABLE == {"pending_payment", "payment_failed"}
    assert CANCELLABLE == {
        "pending_payment",
        "payment_failed",
        "paid",
        "awaiting_prescription_review",
        "ready_to_fulfil",
    }
    assert "fulfilling" not in REFUNDABLE and "paid" in REFUNDABLE and "delivered" in REFUNDABLE
    assert allowed_targets("shipped") == ["delivered", "refunded"]
