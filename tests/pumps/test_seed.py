"""The refill-kit seed (pumps/seed/refill_kits.yaml) loads after the catalogue seed and is what a
2000 mcg/mL pump's kit order picks."""

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from catalog.models import Product
from pumps.services.kits.orders import kit_product_for
from tests.pumps.fixtures import clinic_with_staff, due_pump

KIT_SEED = Path(settings.BASE_DIR) / "pumps" / "seed" / "refill_kits.yaml"


def test_the_seeded_refill_kit_is_chosen_for_a_2000_mcg_per_ml_pump(db):
    call_command("load_seed_catalogue", stdout=StringIO())
    call_command("load_seed_catalogue", str(KIT_SEED), stdout=StringIO())
    call_command("load_seed_catalogue", str(KIT_SEED), stdout=StringIO())  # idempotent

    kit = Product.objects.get(is_refill_kit=True)
    assert (kit.route, kit.concentration_mcg_per_ml, kit.volume_ml, kit.rx_required) == ("intrathecal", 2000, 20, True)
    assert kit.drug.name == "Baclofen" and kit.lots.get().quantity_on_hand == 25
    pump = due_pump(clinic_with_staff()[0])
    assert kit_product_for(pump=pump) == (kit, 1)
    forty = due_pump(clinic_with_staff()[0], model="8637-40", volume="40")
    assert kit_product_for(pump=forty) == (kit, 2)
