// The site's little JavaScript: everything works without it; it only makes pages nicer.
// No inline handlers anywhere (the Content-Security-Policy forbids them): behaviour hangs off
// data- attributes here.
(function () {
  "use strict";

  // A <select data-submit-on-change> submits its form when changed (filters, language).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change")) {
      target.form.requestSubmit();
    }
  });

  // A button with data-confirm="…" asks before submitting.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
