// The lead page: the timeline's "Show" filter, and the header's Assign / Disqualify / Log moving the focus.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var select = document.getElementById("timeline-kind");
    if (select) {
      select.addEventListener("change", function () {
        var kind = select.value;
        document.querySelectorAll("#timeline-entries .crm-entry").forEach(function (entry) {
          entry.hidden = Boolean(kind) && entry.getAttribute("data-kind") !== kind;
        });
      });
    }
    document.querySelectorAll(".crm-lead-actions a[data-focus]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("data-focus"));
        if (!target) { return; }
        event.preventDefault();
        var folded = target.closest("details");
        if (folded) { folded.open = true; }
        target.scrollIntoView({block: "center"});
        target.focus();
      });
    });
  });
})();
