"""Helpers for the rx admin tests: the queue's URLs and an admin change form's POST data."""

QUEUE = "/admin/rx/verificationqueueitem/"


def review_url(rx):
    return f"{QUEUE}{rx.pk}/change/"


def listed(response):
    return [rx.pk for rx in response.context["cl"].result_list]


def admin_form_data(response):
    """The POST data of an admin change form as rendered (main form plus inline formsets)."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for index, f in enumerate(formset.forms):
            if f.instance.pk:
                data[f"{formset.prefix}-{index}-id"] = f.instance.pk
                data[f"{formset.prefix}-{index}-prescription"] = f.instance.prescription_id
    return {k: ("on" if v is True else "" if v is False else v) for k, v in data.items() if v is not False}
