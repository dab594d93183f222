// Product page: monograph sections that open when linked to, and the quantity +/- buttons
// with the live total from the price tiers.
// The tiers come from the page (json_script "price-tiers"); the server's quote at checkout is the
// truth, this is only a preview. Money is computed in integer cents (no floating-point money).
(function () {
  "use strict";
  // A link to a closed <details> (the table of contents, #section-N) opens it.
  function openTarget() {
    if (!location.hash) { return; }
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) { return; }
    var details = target.tagName === "DETAILS" ? target : target.querySelector("details");
    if (details) { details.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  var tools = document.querySelector(".toc-tools");
  if (tools) {
    tools.hidden = false;
    tools.querySelectorAll("button[data-details]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.dataset.details === "open";
        document.querySelectorAll(".monograph details").forEach(function (d) { d.open = open; });
      });
    });
  }
})();

(function () {
  "use strict";
  var form = document.getElementById("add-to-cart");
  var tiersEl = document.getElementById("price-tiers");
  if (!form || !tiersEl) { return; }

  var input = document.getElementById("quantity");
  var output = document.getElementById("total-price");
  var unitNote = document.getElementById("unit-price-note");
  var help = document.getElementById("qty-help");
  var unit = form.dataset.unit || "unit";
  var rows = document.querySelectorAll(".tiers tbody tr[data-min]");

  function toCents(text) {
    var parts = String(text).split(".");
    var fraction = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(fraction, 10);
  }

  function money(cents) {
    var whole = Math.floor(cents / 100).toLocaleString("en-US");
    return "$" + whole + "." + String(cents % 100).padStart(2, "0");
  }

  var tiers = JSON.parse(tiersEl.textContent)
    .map(function (t) { return { min: t.min_quantity, cents: toCents(t.unit_price) }; })
    .sort(function (a, b) { return a.min - b.min; });

  function tierFor(quantity) {
    var chosen = null;
    tiers.forEach(function (t) { if (t.min <= quantity) { chosen = t; } });
    return chosen;
  }

  function maxQuantity() {
    var max = parseInt(input.getAttribute("max"), 10);
    return isNaN(max) ? Infinity : max;
  }

  function update() {
    var text = input.value.trim();
    var quantity = /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
    var max = maxQuantity();
    if (isNaN(quantity) || quantity < 1 || quantity > max) {
      output.textContent = "—";
      unitNote.textContent = "";
      help.textContent = isFinite(max)
        ? "Enter a whole number from 1 to " + max.toLocaleString("en-US") + "."
        : "Enter a whole number of at least 1.";
      input.setAttribute("aria-invalid", "true");
      return;
    }
    input.removeAttribute("aria-invalid");
    var tier = tierFor(quantity);
    output.textContent = money(tier.cents * quantity);
    unitNote.textContent = "(" + money(tier.cents) + " / " + unit + ")";
    var next = tiers.filter(function (t) { return t.min > quantity; })[0];
    help.textContent = next && next.min <= max
      ? "From " + next.min.toLocaleString("en-US") + " " + unit + "s: " + money(next.cents) + " / " + unit + "."
      : "";
    rows.forEach(function (row) {
      row.classList.toggle("is-current", parseInt(row.dataset.min, 10) === tier.min);
    });
  }

  form.querySelectorAll(".qty-btn").forEach(function (button) {
    button.addEventListener("click", function () {
      var current = parseInt(input.value, 10);
      if (isNaN(current)) { current = 0; }
      var next = Math.min(Math.max(current + parseInt(button.dataset.step, 10), 1), maxQuantity());
      input.value = String(next);
      update();
    });
  });
  input.addEventListener("input", update);
  input.addEventListener("change", update);
  update();
})();
