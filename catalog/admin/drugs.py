"""Back office of drugs and their clinical data: route limits, interactions, monograph sections,
and the drug vocabulary (the names people write for medicines, with their interaction classes)."""

from django.contrib import admin

from ..models import Drug, DrugInteraction, DrugRoute, DrugTerm, MonographSection, Product


class DrugRouteInline(admin.StackedInline):
    model = DrugRoute
    extra = 0
    fields = [
        ("route", "dose_unit"),
        ("min_daily_dose", "max_daily_dose", "min_age_years"),
        "black_box_warning",
        ("renal_caution", "renal_max_daily_dose"),
    ]


class DrugInteractionInline(admin.TabularInline):
    model = DrugInteraction
    extra = 0
    fields = ["route", "interacts_with", "interacting_route", "code", "severity", "message"]


class MonographSectionInline(admin.StackedInline):
    model = MonographSection
    extra = 0
    fields = [("position", "kind", "product"), "title", "body"]
    ordering = ["product", "position", "id"]
    show_change_link = False

    def get_formset(self, request, obj=None, **kwargs):
        """Offer only this drug's products, and read them once rather than once per section."""
        formset = super().get_formset(request, obj, **kwargs)
        product_field = formset.form.base_fields["product"]
        product_field.queryset = Product.objects.filter(drug=obj) if obj else Product.objects.none()
        choices = list(product_field.choices)

        class SectionForm(formset.form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                widget = self.fields["product"].widget
                getattr(widget, "widget", widget).choices = choices

        formset.form = SectionForm
        return formset


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ["name", "active_ingredient", "drug_class", "pregnancy_category", "dea_schedule_label"]
    search_fields = ["name", "active_ingredient", "drug_class"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DrugRouteInline, DrugInteractionInline, MonographSectionInline]

    @admin.display(description="DEA schedule")
    def dea_schedule_label(self, obj):
        return obj.get_dea_schedule_display()


@admin.register(DrugTerm)
class DrugTermAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ingredient", "classes_label"]
    list_filter = ["kind"]
    search_fields = ["name", "ingredient"]
    fields = ["name", "kind", "ingredient", "classes"]

    @admin.display(description="Interaction classes")
    def classes_label(self, obj):
        return ", ".join(obj.classes)
