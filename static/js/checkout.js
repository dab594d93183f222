// The order's card page (PCI SAQ A): the card is entered in Stripe.js Elements and confirmed
// with Stripe as a SetupIntent; this script then sends only the resulting payment method id to
// our pay API, completes 3-D Secure if Stripe asks for it, and reads the final status.
// Works with real Stripe.js and with localstripe's stand-in (plain inputs, no change event).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("checkout-config").textContent);
  var form = document.getElementById("payment-form");
  var button = document.getElementById("pay-button");
  var messageBox = document.getElementById("payment-message");
  var statusBox = document.getElementById("payment-status");
  var setupSecret = config.setupClientSecret;

  function showError(text) {
    messageBox.textContent = text;
    messageBox.hidden = false;
    messageBox.className = "payment-message message message-error";
    statusBox.textContent = "";
  }

  function clearError() {
    messageBox.textContent = "";
    messageBox.hidden = true;
  }

  function progress(text) { statusBox.textContent = text; }

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function api(method, url, body) {
    var options = {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  if (typeof window.Stripe !== "function") {
    showError("The card form could not be loaded. Check your connection and reload the page.");
    return;
  }
  if (!config.publishableKey) {
    showError("Card payments are not available right now. Please try again later.");
    return;
  }

  var stripe = window.Stripe(config.publishableKey);  // Stripe(pk): the stand-in has no constructor
  var elements = stripe.elements();
  var card = elements.create("card", { hidePostalCode: false });
  card.mount("#card-element");
  card.on("change", function (event) {
    // Real Stripe passes an event with the validation error; the stand-in passes nothing.
    if (event && event.error) { showError(event.error.message); } else if (event) { clearError(); }
  });

  function ready() {
    button.disabled = !setupSecret;
    if (!setupSecret && messageBox.hidden) {
      showError("Card payments are not available right now. Please reload the page in a moment.");
    }
  }

  // A new attempt needs a new SetupIntent (after a decline or a failed authentication).
  function freshSetupIntent() {
    return api("POST", config.setupIntentUrl).then(function (res) {
      if (res.ok && res.data.setup_intent_client_secret) {
        setupSecret = res.data.setup_intent_client_secret;
      } else {
        setupSecret = "";
        if (res.data && res.data.code === "invalid_transition") {
          window.location.assign(config.orderUrl);
        }
      }
    });
  }

  function failed(text) {
    showError(text);
    return freshSetupIntent().then(ready);
  }

  function succeeded(orderStatus) {
    clearError();
    progress("Payment received. Thank you! Taking you to your order…");
    button.disabled = true;
    window.setTimeout(function () { window.location.assign(config.orderUrl); }, 600);
  }

  function finish(result) {
    if (result.status === "succeeded") { return succeeded(result.order_status); }
    if (result.status === "processing") {
      progress("Your payment is being processed. Your order page will show when it is complete.");
      button.disabled = true;
      return undefined;
    }
    if (result.status === "requires_payment_method") {
      return failed("Card authentication failed, so the payment did not go through. " +
                    "Your order is still reserved: try again or use another card.");
    }
    return failed("The payment could not be completed (" + result.status + "). Please try again.");
  }

  function afterPay(res) {
    if (!res.ok) {
      var detail = (res.data && res.data.detail) || "The payment could not be completed. Please try again.";
      if (res.status === 402) {
        return failed(detail + " Your order is still reserved: try again or use another card.");
      }
      return failed(detail);
    }
    var result = res.data;
    if (result.status === "requires_action" && result.client_secret) {
      progress("Your bank asks you to confirm this payment…");
      return stripe.confirmCardPayment(result.client_secret).then(function (outcome) {
        // A failed authentication may come back with no error at all (the stand-in): the
        // server's status below is the truth either way.
        progress("Checking the payment…");
        return api("GET", config.statusUrl).then(function (statusRes) {
          if (!statusRes.ok) {
            return failed((statusRes.data && statusRes.data.detail) || "Could not read the payment status.");
          }
          if (statusRes.data.status === "requires_payment_method" && outcome && outcome.error &&
              outcome.error.message) {
            return failed(outcome.error.message + " Your order is still reserved: try again or use another card.");
          }
          return finish(statusRes.data);
        });
      });
    }
    return finish(result);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    clearError();
    progress("Checking your card with Stripe…");
    stripe.confirmCardSetup(setupSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) {
        return failed((result.error.message || "Your card could not be used.") +
                      " Check the card details or use another card.");
      }
      var pm = result.setupIntent && result.setupIntent.payment_method;
      var pmId = pm && typeof pm === "object" ? pm.id : pm;
      if (!pmId) { return failed("Your card could not be used. Please try again."); }
      progress("Paying…");
      return api("POST", config.payUrl, { payment_method: pmId }).then(afterPay);
    }).catch(function () {
      return failed("Something went wrong while paying. Please try again.");
    });
  });

  ready();
})();
