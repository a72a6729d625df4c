// The console's read-only diagrams. Markup, no inline code (the Content-Security-Policy forbids it):
//   <div class="console-diagram" data-diagram="ID"              the id of a json_script holding the BPMN XML
//        data-markers="ID"                                       optional: {element id: ["css-class", ...]}
//        data-overlays="ID"></div>                               optional: {element id: [{"text": "3", "class": "…", "title": "…"}]}
// Marker classes are styled in console.css (done, active, failed, heat-0 … heat-5). Clicking an
// element dispatches `console:element` on the container with {detail: {id, name, type}}, so a page
// (the heat-map's drill-down) can react. Each viewer is kept in `OnsiteConsole.diagrams[container id]`.
(function () {
  "use strict";

  var consoleApi = (window.OnsiteConsole = window.OnsiteConsole || { diagrams: {} });

  function jsonFrom(id) {
    if (!id) return null;
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function overlayNode(item) {
    var node = document.createElement("span");
    node.className = "diagram-overlay " + (item["class"] || "");
    node.textContent = item.text;
    if (item.title) node.title = item.title;
    return node;
  }

  function show(container) {
    var xml = jsonFrom(container.getAttribute("data-diagram"));
    if (!xml) return;
    var viewer = new window.OnsiteBpmn.Viewer({ container: container });
    consoleApi.diagrams[container.id || "diagram"] = viewer;
    viewer
      .importXML(xml)
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");
        var markers = jsonFrom(container.getAttribute("data-markers")) || {};
        Object.keys(markers).forEach(function (id) {
          if (!registry.get(id)) return;
          markers[id].forEach(function (cls) {
            canvas.addMarker(id, cls);
          });
        });
        var overlays = jsonFrom(container.getAttribute("data-overlays")) || {};
        var overlayService = viewer.get("overlays");
        Object.keys(overlays).forEach(function (id) {
          if (!registry.get(id)) return;
          overlays[id].forEach(function (item, index) {
            overlayService.add(id, {
              position: { bottom: -4 - 20 * index, right: 8 },
              html: overlayNode(item),
            });
          });
        });
        viewer.get("eventBus").on("element.click", function (event) {
          var element = event.element;
          if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration") return;
          container.dispatchEvent(
            new CustomEvent("console:element", {
              bubbles: true,
              detail: { id: element.id, name: element.businessObject.name || "", type: element.type },
            })
          );
        });
        container.classList.add("is-ready");
      })
      .catch(function (error) {
        container.classList.add("is-broken");
        container.textContent = container.getAttribute("data-broken-text") || String(error);
      });
  }

  function showAll() {
    document.querySelectorAll(".console-diagram[data-diagram]").forEach(show);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showAll);
  else showAll();
})();
