/**
 * Progressive enhancement only: a state filter over the claims tables. The page is complete
 * without it (no content comes from script); it inserts its own controls, so nothing dead shows
 * when JavaScript is off, and it catches everything, so that it never throws.
 */
export const SCRIPT = `(function () {
  "use strict";
  try {
    var tables = document.querySelectorAll("table.claims");
    var first = document.querySelector("section.group");
    if (tables.length === 0 || first === null || !first.parentNode) return;
    var states = ["VALIDATED", "BETA", "NOT_STARTED", "DEFER", "FUTURE_REQUIRED"];
    var shown = {};
    var form = document.createElement("form");
    form.className = "filter";
    form.setAttribute("aria-label", "filter claims by state");
    var fieldset = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = "Show claims in state";
    fieldset.appendChild(legend);
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    function apply() {
      var total = 0;
      var visible = 0;
      for (var t = 0; t < tables.length; t++) {
        var rows = tables[t].tBodies[0] ? tables[t].tBodies[0].rows : [];
        for (var r = 0; r < rows.length; r++) {
          var on = shown[rows[r].getAttribute("data-state")] !== false;
          rows[r].hidden = !on;
          total++;
          if (on) visible++;
        }
      }
      status.textContent = "Showing " + visible + " of " + total + " claims.";
    }
    states.forEach(function (s) {
      shown[s] = true;
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.value = s;
      box.addEventListener("change", function () {
        shown[s] = box.checked;
        apply();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + s));
      fieldset.appendChild(label);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
    });
    form.appendChild(fieldset);
    form.appendChild(status);
    first.parentNode.insertBefore(form, first);
    apply();
  } catch (e) {
    // The filter is an extra: without it the page still shows every claim.
  }
})();`;
