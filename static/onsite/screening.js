// The screening page: a box in the result's header ticks or clears every customer on the page.
// Without JavaScript each row's box is ticked by hand; the header box is hidden then.
(function () {
  "use strict";

  document.querySelectorAll("[data-check-all]").forEach(function (box) {
    box.hidden = false;
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-check-all")) {
      return;
    }
    var table = box.closest("table");
    var name = box.getAttribute("data-check-all");
    table.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
