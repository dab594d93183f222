"""Run by the migration test in a subprocess on a database of its own (DATABASE_URL).

Migrates to the state before the pumps app existed, writes rows with the historical models (a
clinic, a patient, a pump with a program and a refill, a standing order, a kit order with its shop
order, an alert, a permission granted to a group), migrates to the newest state and prints what the
current models read back, as JSON.
"""

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

BEFORE = [("rx", "0003_clinic_time_zone_validator"), ("shop", "0001_initial"), ("catalog", "0002_drugroute_renal_limits"),
          ("auth", "0012_alter_user_first_name_max_length"), ("contenttypes", "0002_remove_content_type_name")]
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def write_old_rows(apps):
    user = apps.get_model("auth", "User").objects.create(username="nurse", email="nurse@clinic.example")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    pump_ct = ContentType.objects.create(app_label="rx", model="pump")
    ContentType.objects.create(app_label="shop", model="kitorder")
    perm = Permission.objects.create(content_type=pump_ct, codename="view_pump", name="Can view pump")
    group = apps.get_model("auth", "Group").objects.create(name="Pump nurses")
    group.permissions.add(perm)
    clinic = apps.get_model("rx", "Clinic").objects.create(name="Alpha Clinic", time_zone="America/Chicago")
    patient = apps.get_model("rx", "Patient").objects.create(clinic=clinic, first_name="Pat", last_name="Example",
                                                             date_of_birth=date(1970, 1, 1))
    Pump = apps.get_model("rx", "Pump")
    pump = Pump.objects.create(patient=patient, manufacturer="medtronic", model="8637-20", serial_number="SN1",
                               reservoir_volume_ml=Decimal("20"), alarm_volume_ml=Decimal("2"),
                               implanted_on=date(2020, 1, 1), ship_by=date(2026, 12, 10))
    apps.get_model("rx", "PumpProgram").objects.create(pump=pump, effective_at=NOW, daily_dose_mcg=Decimal("500"),
                                                       concentration_mcg_per_ml=Decimal("2000"))
    refill = apps.get_model("rx", "PumpRefill").objects.create(
        pump=pump, filled_at=NOW, volume_filled_ml=Decimal("20"), concentration_mcg_per_ml=Decimal("2000"))
    Pump.objects.filter(pk=pump.pk).update(current_refill=refill)
    drug = apps.get_model("catalog", "Drug").objects.create(name="Baclofen", slug="baclofen",
                                                            active_ingredient="baclofen")
    kit = apps.get_model("catalog", "Product").objects.create(
        drug=drug, name="Kit", slug="kit", ndc="67457000099", route="intrathecal", is_refill_kit=True,
        strength=Decimal("2000"), strength_unit="mcg/mL")
    order = apps.get_model("shop", "Order").objects.create(
        number="PH-ABCDEFGH", user=user, status="ready_to_fulfil", shipping_name="Alpha", shipping_line1="1 Main",
        shipping_city="Chicago", shipping_state="IL", shipping_postal_code="60601", currency="usd",
        subtotal=Decimal("10"), total=Decimal("10"))
    other = apps.get_model("shop", "Order").objects.create(
        number="PH-BCDEFGHJ", user=user, status="paid", shipping_name="Shopper", shipping_line1="2 Main",
        shipping_city="Boston", shipping_state="MA", shipping_postal_code="02101", currency="usd",
        subtotal=Decimal("5"), total=Decimal("5"))
    standing = apps.get_model("shop", "StandingOrder").objects.create(clinic=clinic, pump=pump, created_by=user,
                                                                      shipping_name="Alpha")
    kit_order = apps.get_model("shop", "KitOrder").objects.create(
        pump=pump, patient=patient, clinic=clinic, refill=refill, order=order, product=kit, quantity=1,
        standing_order=standing, source="standing", ship_by=date(2026, 12, 10), required_delivery=date(2026, 12, 14))
    apps.get_model("shop", "KitAlert").objects.create(pump=pump, kit_order=kit_order, clinic=clinic,
                                                      reason="no_stock", message="No stock.", opened_at=NOW)
    return {"pump": pump.pk, "kit_order": kit_order.pk, "order": order.pk, "other_order": other.pk}


def read_new_rows(ids):
    from django.contrib.auth.models import Group

    from pumps.models import KitAlert, KitOrder, Pump, StandingOrder
    from shop.models import Order

    pump = Pump.objects.get(pk=ids["pump"])
    kit_order = KitOrder.objects.select_related("order", "refill").get(pk=ids["kit_order"])
    return {
        "pump_serial": pump.serial_number,
        "pump_programs": pump.programs.count(),
        "pump_current_refill": pump.current_refill_id == kit_order.refill_id,
        "standing_orders": StandingOrder.objects.filter(pump=pump).count(),
        "kit_order_order": kit_order.order.number,
        "alerts": KitAlert.objects.filter(kit_order=kit_order).count(),
        "kit_order_scheduled": kit_order.order.scheduled_dispatch,
        "other_order_scheduled": Order.objects.get(pk=ids["other_order"]).scheduled_dispatch,
        "group_permissions": sorted(f"{p.content_type.app_label}.{p.codename}"
                                    for p in Group.objects.get(name="Pump nurses").permissions.all()),
    }


if __name__ == "__main__":
    ids = write_old_rows(migrate(BEFORE))
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    print(json.dumps(read_new_rows(ids)))
