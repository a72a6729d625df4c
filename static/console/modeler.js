// The modeler page (templates/console/modeler/page.html): bpmn-js's Modeler with the properties panel
// (static/vendor/bpmn-js/modeler.js, built from frontend/modeler.js), the form editor beside it, and
// the server's validation and deployment. No inline code (the Content-Security-Policy forbids it):
// everything comes from json_script blocks and data- attributes.
//
// Unsaved work (the diagram's XML and the forms) is kept in localStorage under the version's key, so a
// reload restores it (with a notice and a "discard" button); a successful deploy clears it. The
// Modeler is `window.OnsiteConsole.modeler` (the browser tests drive it through its API).
(function () {
  "use strict";

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var config = json("modeler-config");
  if (!config || !window.OnsiteBpmn || !window.OnsiteBpmn.createModeler) return;
  var texts = document.getElementById("modeler-texts").dataset;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var draftKey = "onsite.modeler." + config.key;
  var FORM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-]*\.json$/;

  var forms = json("modeler-forms") || {};
  var currentForm = null;
  var dirty = false;
  var problemIds = [];

  var status = document.getElementById("modeler-status");
  var problemList = document.getElementById("modeler-problems");
  var formSelect = document.getElementById("form-editor-name");
  var formText = document.getElementById("form-editor-text");
  var formProblems = document.getElementById("form-editor-problems");
  var preview = document.getElementById("form-editor-preview");

  var choices = {
    roles: config.roles,
    operations: config.operations,
    labels: config.labels,
    hints: config.hints,
    formNames: function () {
      return Object.keys(forms).sort();
    },
    newForm: function () {
      return createForm();
    },
    openForm: function (name) {
      if (name && name in forms) openForm(name);
    },
  };

  var modeler = window.OnsiteBpmn.createModeler({
    container: document.getElementById("modeler-canvas"),
    propertiesParent: document.getElementById("modeler-properties"),
    choices: choices,
    texts: config.texts,
  });
  window.OnsiteConsole = window.OnsiteConsole || { diagrams: {} };
  window.OnsiteConsole.modeler = modeler;

  // --- the browser's copy of unsaved work ---------------------------------------------------------

  function readDraft() {
    try {
      return JSON.parse(window.localStorage.getItem(draftKey) || "null");
    } catch (error) {
      return null;
    }
  }

  var saveTimer = null;
  function keepDraft() {
    dirty = true;
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(function () {
      modeler.saveXML({ format: true }).then(function (result) {
        try {
          window.localStorage.setItem(draftKey, JSON.stringify({ xml: result.xml, forms: forms }));
        } catch (error) {
          /* storage full or disabled: the leave-page question still protects the work */
        }
      });
    }, 300);
  }

  function clearDraft() {
    window.clearTimeout(saveTimer);
    window.localStorage.removeItem(draftKey);
    dirty = false;
  }

  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = texts.leave;
  });

  // --- problems: a list, and a marker on each element ---------------------------------------------

  function clearProblems() {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    problemIds.forEach(function (id) {
      if (registry.get(id)) canvas.removeMarker(id, "has-problem");
    });
    problemIds = [];
    modeler.get("overlays").remove({ type: "onsite-problem" });
    problemList.replaceChildren();
    problemList.hidden = true;
  }

  function selectElement(id) {
    var element = modeler.get("elementRegistry").get(id);
    if (!element) return;
    modeler.get("selection").select(element);
    var canvas = modeler.get("canvas");
    if (canvas.scrollToElement) canvas.scrollToElement(element);
    document.getElementById("modeler-canvas").scrollIntoView({ block: "nearest" });
  }

  function listItem(problem, kind, number) {
    var item = document.createElement("li");
    item.className = "list-group-item list-group-item-" + (kind === "problem" ? "danger" : "warning");
    var registry = modeler.get("elementRegistry");
    if (problem.element && registry.get(problem.element)) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link p-0 text-start modeler-problem-link";
      button.dataset.element = problem.element;
      button.textContent = problem.text;
      button.addEventListener("click", function () {
        selectElement(problem.element);
      });
      item.appendChild(button);
      if (kind === "problem") {
        modeler.get("canvas").addMarker(problem.element, "has-problem");
        problemIds.push(problem.element);
        var badge = document.createElement("span");
        badge.className = "modeler-problem-badge";
        badge.textContent = String(number);
        badge.title = problem.message;
        modeler.get("overlays").add(problem.element, "onsite-problem", { position: { top: -10, right: 10 }, html: badge });
      }
    } else {
      item.textContent = problem.text;
    }
    return item;
  }

  function showResult(result) {
    clearProblems();
    var problems = result.problems || [];
    var warnings = result.warnings || [];
    problems.forEach(function (problem, index) {
      problemList.appendChild(listItem(problem, "problem", index + 1));
    });
    warnings.forEach(function (warning) {
      problemList.appendChild(listItem(warning, "warning"));
    });
    problemList.hidden = !problems.length && !warnings.length;
  }

  function say(text, kind, link) {
    status.replaceChildren();
    var box = document.createElement("div");
    box.className = "alert alert-" + kind + " mb-2";
    box.textContent = text;
    if (link) {
      box.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.className = "alert-link";
      anchor.href = link;
      anchor.textContent = texts.openVersion;
      box.appendChild(anchor);
    }
    status.appendChild(box);
  }

  // --- talking to the server ----------------------------------------------------------------------

  function post(url, body) {
    body.append("csrfmiddlewaretoken", csrf);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
    });
  }

  function bundle() {
    return modeler.saveXML({ format: true }).then(function (result) {
      var body = new FormData();
      body.append("base", config.base);
      body.append("diagram", new Blob([result.xml], { type: "application/xml" }), config.mainName);
      Object.keys(forms).forEach(function (name) {
        body.append("form", new Blob([forms[name]], { type: "application/json" }), name);
      });
      return body;
    });
  }

  function send(url, busyText) {
    say(busyText, "secondary");
    return bundle()
      .then(function (body) {
        return post(url, body);
      })
      .then(function (response) {
        return response.json();
      })
      .catch(function () {
        say(texts.failed, "danger");
        return null;
      });
  }

  function validate() {
    send(config.urls.validate, texts.validating).then(function (result) {
      if (!result) return;
      showResult(result);
      if (result.ok) say(texts.valid, "success");
      else say(texts.problems, "danger");
    });
  }

  function deploy() {
    send(config.urls.deploy, texts.deploying).then(function (result) {
      if (!result) return;
      showResult(result);
      if (result.ok) {
        clearDraft();
        document.getElementById("modeler-draft").hidden = true;
        say(result.message, "success", result.url);
      } else {
        say(result.message + " " + texts.problems, "danger");
      }
    });
  }

  function download(content, type, name) {
    var url = URL.createObjectURL(new Blob([content], { type: type }));
    var anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = name;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    window.setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  }

  // --- the form editor ----------------------------------------------------------------------------

  function fillFormSelect() {
    formSelect.replaceChildren();
    var names = choices.formNames();
    if (!names.length) {
      var empty = document.createElement("option");
      empty.value = "";
      empty.textContent = texts.noForms;
      formSelect.appendChild(empty);
    }
    names.forEach(function (name) {
      var option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      formSelect.appendChild(option);
    });
    if (currentForm) formSelect.value = currentForm;
    formText.disabled = !names.length;
  }

  function openForm(name) {
    currentForm = name;
    formSelect.value = name;
    formText.value = forms[name];
    preview.replaceChildren(); // no other form's preview while this one's is coming
    refreshForm();
  }

  function createForm() {
    var name = window.prompt(texts.newFormPrompt, "new_form.schema.json");
    if (!name) return null;
    name = name.trim();
    if (!FORM_NAME.test(name)) {
      window.alert(texts.badFormName);
      return null;
    }
    if (!(name in forms)) {
      forms[name] = JSON.stringify({ title: name.replace(/\.schema\.json$|\.json$/, ""), type: "object", properties: {} }, null, 2);
      keepDraft();
    }
    fillFormSelect();
    openForm(name);
    return name;
  }

  var formTimer = null;
  var formRequest = 0;
  function refreshForm() {
    window.clearTimeout(formTimer);
    formTimer = window.setTimeout(checkForm, 400);
  }

  function checkForm() {
    if (!currentForm) return;
    var mine = ++formRequest;
    var language = document.querySelector("input[name=preview-language]:checked").value;
    var body = new FormData();
    body.append("schema", formText.value);
    var check = post(config.urls.formCheck, body).then(function (response) {
      return response.json();
    });
    var previewBody = new FormData();
    previewBody.append("schema", formText.value);
    previewBody.append("language", language);
    var shown = post(config.urls.formPreview, previewBody).then(function (response) {
      return response.text();
    });
    Promise.all([check, shown])
      .then(function (results) {
        if (mine !== formRequest) return; // a later keystroke's answer is coming
        var result = results[0];
        formProblems.replaceChildren();
        (result.problems || []).forEach(function (problem) {
          var item = document.createElement("li");
          item.className = "text-danger";
          item.textContent = problem.message;
          formProblems.appendChild(item);
        });
        (result.warnings || []).forEach(function (warning) {
          var item = document.createElement("li");
          item.className = "text-warning-emphasis";
          item.textContent = warning;
          formProblems.appendChild(item);
        });
        if (result.ok && !(result.warnings || []).length) {
          var fine = document.createElement("li");
          fine.className = "text-success";
          fine.textContent = texts.formOk;
          formProblems.appendChild(fine);
        }
        formText.classList.toggle("is-invalid", !result.ok);
        preview.innerHTML = results[1]; // the server's rendering, as on the task page
        preview.dataset.language = language;
      })
      .catch(function () {
        formProblems.replaceChildren();
        var item = document.createElement("li");
        item.className = "text-danger";
        item.textContent = texts.failed;
        formProblems.appendChild(item);
      });
  }

  formSelect.addEventListener("change", function () {
    if (formSelect.value) openForm(formSelect.value);
  });
  formText.addEventListener("input", function () {
    if (!currentForm) return;
    forms[currentForm] = formText.value;
    keepDraft();
    refreshForm();
  });
  document.querySelectorAll("input[name=preview-language]").forEach(function (radio) {
    radio.addEventListener("change", refreshForm);
  });

  // --- the buttons ---------------------------------------------------------------------------------

  var actions = {
    validate: validate,
    deploy: deploy,
    "download-bpmn": function () {
      modeler.saveXML({ format: true }).then(function (result) {
        download(result.xml, "application/xml", config.mainName);
      });
    },
    "download-svg": function () {
      modeler.saveSVG().then(function (result) {
        download(result.svg, "image/svg+xml", config.mainName.replace(/\.bpmn$/, "") + ".svg");
      });
    },
    discard: function () {
      if (!window.confirm(texts.discard)) return;
      clearDraft();
      window.location.reload();
    },
    "new-form": function () {
      createForm();
    },
  };
  document.querySelectorAll("[data-modeler-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      actions[button.dataset.modelerAction]();
    });
  });

  // --- opening -------------------------------------------------------------------------------------

  // The whole diagram in view, its left edge clear of the palette (which floats over the canvas); on
  // a narrow screen the palette's room would leave the diagram too small, so it just fits.
  function fitBesidePalette() {
    var canvas = modeler.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var palette = document.querySelector("#modeler-canvas .djs-palette");
    var box = canvas.viewbox();
    if (!palette || box.outer.width < 600 || !box.inner.width || !box.inner.height) return;
    var inset = palette.offsetLeft + palette.offsetWidth + 12;
    var scale = Math.min(
      box.scale,
      (box.outer.width - inset - 12) / box.inner.width,
      (box.outer.height - 24) / box.inner.height
    );
    if (!(scale > 0)) return;
    canvas.viewbox({
      x: box.inner.x - inset / scale,
      y: box.inner.y - (box.outer.height / scale - box.inner.height) / 2,
      width: box.outer.width / scale,
      height: box.outer.height / scale,
    });
  }

  var draft = readDraft();
  var xml = json("modeler-xml");
  if (draft && draft.xml) {
    xml = draft.xml;
    forms = draft.forms || forms;
    dirty = true;
    document.getElementById("modeler-draft").hidden = false;
  }
  fillFormSelect();
  var names = choices.formNames();
  if (names.length) openForm(names[0]);

  modeler
    .importXML(xml)
    .then(function () {
      fitBesidePalette();
      modeler.get("eventBus").on("commandStack.changed", keepDraft);
      modeler.get("eventBus").on("selection.changed", function (event) {
        var selected = event.newSelection;
        if (selected.length !== 1) return;
        var name = window.OnsiteBpmn.formOf(selected[0]);
        if (name && name in forms && name !== currentForm) openForm(name);
      });
      document.getElementById("modeler-canvas").classList.add("is-ready");
    })
    .catch(function (error) {
      var canvas = document.getElementById("modeler-canvas");
      canvas.classList.add("is-broken");
      say(canvas.getAttribute("data-broken-text") + " " + String(error.message || error), "danger");
    });
})();
