// "Copy" buttons next to read-only text (the channel page's embed snippet and hosted form link).
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) { return; }
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done);
  } else {
    source.select();
    document.execCommand("copy");
    done();
  }
});
