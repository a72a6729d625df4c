// The console's modeler: bpmn-js's Modeler with the properties panel, the spiffworkflow: extension
// elements this engine reads (frontend/modeler/moddle.json) and the panel groups for them
// (frontend/modeler/provider.js). Exposed to the page's own script (static/console/modeler.js) as
// `window.OnsiteBpmn.createModeler(options)`.
import Modeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import spiffworkflow from "./modeler/moddle.json";
import OnsitePropertiesProvider, { FORM_PROPERTY, getProperty } from "./modeler/provider.js";

const OnsitePropertiesModule = {
  __init__: ["onsitePropertiesProvider"],
  onsitePropertiesProvider: ["type", OnsitePropertiesProvider],
};

// bpmn-js asks `translate(template, replacements)` for its texts; the page hands over the ones it
// has in the reader's language, the rest stay as bpmn-js writes them.
function translator(texts) {
  return function translate(template, replacements) {
    const text = (texts && texts[template]) || template;
    return text.replace(/{([^}]+)}/g, (match, key) => (replacements && key in replacements ? replacements[key] : match));
  };
}

// options: {container, propertiesParent, choices: {roles, operations, formNames(), newForm(element),
// openForm(name), labels, hints}, texts}
function createModeler(options) {
  return new Modeler({
    container: options.container,
    propertiesPanel: { parent: options.propertiesParent },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      OnsitePropertiesModule,
      { translate: ["value", translator(options.texts)] },
    ],
    moddleExtensions: { spiffworkflow },
    onsiteChoices: options.choices,
  });
}

window.OnsiteBpmn = Object.assign(window.OnsiteBpmn || {}, {
  createModeler,
  formOf: (element) => getProperty(element, FORM_PROPERTY),
});
