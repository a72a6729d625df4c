// The heat-map's drill-down: a click on a diagram element (the `console:element` event of
// console/diagram.js) opens the list of the instances waiting there, keeping the page's filters.
//   <div class="console-diagram" data-element-url=".../__element__/" data-query="from=…&team=…">
(function () {
  "use strict";

  document.addEventListener("console:element", function (event) {
    var container = event.target.closest ? event.target.closest("[data-element-url]") : null;
    if (!container || !event.detail || !event.detail.id) return;
    var url = container.getAttribute("data-element-url").replace("__element__", encodeURIComponent(event.detail.id));
    var query = container.getAttribute("data-query");
    window.location.assign(url + (query ? "?" + query : ""));
  });
})();
