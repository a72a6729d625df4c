// The properties panel's groups for what this engine reads from a diagram (see workflows/validation.py,
// workflows/assignment.py): a lane's role, a user task's form and due time, a service task's operation,
// pre/post scripts, script task text, sequence-flow conditions, and a hint on timers. The choices
// (roles, forms, operations) and every label and hint come from the page (`choices`), in the
// reader's language.
import { h } from "@bpmn-io/properties-panel/preact";
import { Group, SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export const FORM_PROPERTY = "formJsonSchemaFilename";
export const NEW_FORM = "__new__";

// --- reading and writing spiffworkflow: extension elements -------------------------------------------

function extension(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  return values.find((value) => value.$type === type);
}

export function getProperty(element, name) {
  const properties = extension(getBusinessObject(element), "spiffworkflow:properties");
  const found = properties && (properties.properties || []).find((p) => p.name === name);
  return found ? found.value || "" : "";
}

// Commands that make sure `bo` has extensionElements holding an element of `type`; returns it.
function ensureExtension(element, bo, type, bpmnFactory, commands, attrs) {
  let extensions = bo.extensionElements;
  if (!extensions) {
    extensions = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    extensions.$parent = bo;
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: bo, properties: { extensionElements: extensions } } });
  }
  let found = (extensions.values || []).find((value) => value.$type === type);
  if (!found) {
    found = bpmnFactory.create(type, attrs || {});
    found.$parent = extensions;
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: extensions, properties: { values: [...(extensions.values || []), found] } } });
  }
  return found;
}

function run(commandStack, commands) {
  if (commands.length) commandStack.execute("properties-panel.multi-command-executor", commands);
}

export function setProperty(element, name, value, injector) {
  const bpmnFactory = injector.get("bpmnFactory");
  const commands = [];
  const bo = getBusinessObject(element);
  const existing = extension(bo, "spiffworkflow:properties");
  if (!value && !existing) return;
  const properties = ensureExtension(element, bo, "spiffworkflow:properties", bpmnFactory, commands, { properties: [] });
  const list = properties.properties || [];
  const found = list.find((p) => p.name === name);
  if (value && found) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: found, properties: { value } } });
  } else if (value) {
    const created = bpmnFactory.create("spiffworkflow:property", { name, value });
    created.$parent = properties;
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: properties, properties: { properties: [...list, created] } } });
  } else if (found) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: properties, properties: { properties: list.filter((p) => p !== found) } } });
  }
  run(injector.get("commandStack"), commands);
}

function getBody(element, type) {
  const found = extension(getBusinessObject(element), type);
  return found ? found.value || "" : "";
}

function setBody(element, type, value, injector) {
  const bo = getBusinessObject(element);
  const found = extension(bo, type);
  const commands = [];
  if (found && !value) {
    const extensions = bo.extensionElements;
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: extensions, properties: { values: extensions.values.filter((v) => v !== found) } } });
  } else if (found) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: found, properties: { value } } });
  } else if (value) {
    ensureExtension(element, bo, type, injector.get("bpmnFactory"), commands, { value });
  }
  run(injector.get("commandStack"), commands);
}

function getOperator(element) {
  return extension(getBusinessObject(element), "spiffworkflow:serviceTaskOperator");
}

function setOperator(element, attrs, injector) {
  const bo = getBusinessObject(element);
  const commands = [];
  const found = getOperator(element);
  if (found) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: found, properties: attrs } });
  } else {
    const bpmnFactory = injector.get("bpmnFactory");
    const operator = ensureExtension(element, bo, "spiffworkflow:serviceTaskOperator", bpmnFactory, commands, attrs);
    const parameters = bpmnFactory.create("spiffworkflow:parameters", { parameters: [] });
    parameters.$parent = operator;
    operator.parameterList = parameters;
  }
  run(injector.get("commandStack"), commands);
}

// --- the entries ---------------------------------------------------------------------------------------

function Hint(props) {
  return h("div", { class: "bio-properties-panel-description onsite-hint" }, props.text);
}

function withCurrent(options, current, unknownLabel) {
  if (current && !options.some((o) => o.value === current)) {
    return [...options, { value: current, label: unknownLabel.replace("%s", current) }];
  }
  return options;
}

function LaneRole(props) {
  const { element, choices } = props;
  const modeling = useService("modeling");
  const l = choices.labels;
  return h(SelectEntry, {
    element,
    id: "onsite-lane-role",
    label: l.role,
    description: l.roleHint,
    getValue: () => getBusinessObject(element).name || "",
    setValue: (value) => modeling.updateProperties(element, { name: value }),
    getOptions: () =>
      withCurrent(
        [{ value: "", label: l.noRole }, ...choices.roles.map((r) => ({ value: r.lane, label: r.label }))],
        getBusinessObject(element).name || "",
        l.unmappedLane
      ),
  });
}

function FormChoice(props) {
  const { element, choices } = props;
  const injector = useService("injector");
  const l = choices.labels;
  return h(SelectEntry, {
    element,
    id: "onsite-form",
    label: l.form,
    description: l.formHint,
    getValue: () => getProperty(element, FORM_PROPERTY),
    setValue: (value) => {
      if (value === NEW_FORM) {
        const name = choices.newForm(element);
        if (name) setProperty(element, FORM_PROPERTY, name, injector);
        return;
      }
      setProperty(element, FORM_PROPERTY, value, injector);
      choices.openForm(value);
    },
    getOptions: () =>
      withCurrent(
        [
          { value: "", label: l.noForm },
          ...choices.formNames().map((name) => ({ value: name, label: name })),
          { value: NEW_FORM, label: l.newForm },
        ],
        getProperty(element, FORM_PROPERTY),
        l.missingForm
      ),
  });
}

function PropertyField(props) {
  const { element, name, label, description } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id: "onsite-property-" + name,
    label,
    description,
    debounce,
    getValue: () => getProperty(element, name),
    setValue: (value) => setProperty(element, name, (value || "").trim(), injector),
  });
}

function Operation(props) {
  const { element, choices } = props;
  const injector = useService("injector");
  const l = choices.labels;
  return h(SelectEntry, {
    element,
    id: "onsite-operation",
    label: l.operation,
    description: l.operationHint,
    getValue: () => (getOperator(element) || {}).id || "",
    setValue: (value) => setOperator(element, { id: value }, injector),
    getOptions: () =>
      withCurrent(
        [{ value: "", label: l.noOperation }, ...choices.operations.map((o) => ({ value: o.name, label: o.label }))],
        (getOperator(element) || {}).id || "",
        l.unknownOperation
      ),
  });
}

function ResultVariable(props) {
  const { element, choices } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id: "onsite-result-variable",
    label: choices.labels.resultVariable,
    debounce,
    getValue: () => (getOperator(element) || {}).resultVariable || "",
    setValue: (value) => setOperator(element, { resultVariable: (value || "").trim() || undefined }, injector),
  });
}

function Code(props) {
  const { element, id, label, description, getValue, setValue } = props;
  const debounce = useService("debounceInput");
  return h(TextAreaEntry, { element, id, label, description, debounce, monospace: true, rows: 4, getValue, setValue });
}

function ScriptText(props) {
  const { element, choices } = props;
  const modeling = useService("modeling");
  return h(Code, {
    element,
    id: "onsite-script",
    label: choices.labels.script,
    description: choices.hints.script,
    getValue: () => getBusinessObject(element).script || "",
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined, scriptFormat: value ? "python" : undefined }),
  });
}

function ExtensionScript(props) {
  const { element, choices, type, label } = props;
  const injector = useService("injector");
  return h(Code, {
    element,
    id: "onsite-" + type.split(":")[1],
    label,
    description: choices.hints.script,
    getValue: () => getBody(element, type),
    setValue: (value) => setBody(element, type, value, injector),
  });
}

function Condition(props) {
  const { element, choices } = props;
  const modeling = useService("modeling");
  const bpmnFactory = useService("bpmnFactory");
  return h(Code, {
    element,
    id: "onsite-condition",
    label: choices.labels.condition,
    description: choices.hints.expression,
    getValue: () => {
      const expression = getBusinessObject(element).conditionExpression;
      return (expression && expression.body) || "";
    },
    setValue: (value) =>
      modeling.updateProperties(element, {
        conditionExpression: value ? bpmnFactory.create("bpmn:FormalExpression", { body: value }) : undefined,
      }),
  });
}

function hasCondition(element) {
  if (!is(element, "bpmn:SequenceFlow")) return false;
  const source = element.source && getBusinessObject(element.source);
  return !!source && (is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway") || !!getBusinessObject(element).conditionExpression);
}

function group(id, label, entries) {
  // Open from the start: what this engine reads is what a coordinator comes to the panel for.
  return { id, label, component: Group, entries, shouldOpen: true };
}

export default function OnsitePropertiesProvider(propertiesPanel, injector, config) {
  const choices = config;
  const l = choices.labels;

  this.getGroups = function (element) {
    return function (groups) {
      const added = [];
      if (is(element, "bpmn:Lane")) {
        added.push(group("onsite-role", l.roleGroup, [{ id: "onsite-lane-role", component: LaneRole, element, choices, isEdited: isSelectEntryEdited }]));
      }
      if (is(element, "bpmn:UserTask")) {
        added.push(
          group("onsite-form", l.formGroup, [
            { id: "onsite-form", component: FormChoice, element, choices, isEdited: isSelectEntryEdited },
            { id: "onsite-property-dueIn", component: PropertyField, element, name: "dueIn", label: l.dueIn, description: choices.hints.dueIn, isEdited: isTextFieldEntryEdited },
            { id: "onsite-property-assignee", component: PropertyField, element, name: "assignee", label: l.assignee, description: l.assigneeHint, isEdited: isTextFieldEntryEdited },
          ])
        );
      }
      if (is(element, "bpmn:ServiceTask")) {
        added.push(
          group("onsite-operation", l.operationGroup, [
            { id: "onsite-operation", component: Operation, element, choices, isEdited: isSelectEntryEdited },
            { id: "onsite-result-variable", component: ResultVariable, element, choices, isEdited: isTextFieldEntryEdited },
          ])
        );
      }
      if (is(element, "bpmn:ScriptTask")) {
        added.push(group("onsite-script", l.scriptGroup, [{ id: "onsite-script", component: ScriptText, element, choices, isEdited: isTextAreaEntryEdited }]));
      }
      if (is(element, "bpmn:Task")) {
        added.push(
          group("onsite-scripts", l.scriptsGroup, [
            { id: "onsite-preScript", component: ExtensionScript, element, choices, type: "spiffworkflow:preScript", label: l.preScript, isEdited: isTextAreaEntryEdited },
            { id: "onsite-postScript", component: ExtensionScript, element, choices, type: "spiffworkflow:postScript", label: l.postScript, isEdited: isTextAreaEntryEdited },
          ])
        );
      }
      if (hasCondition(element)) {
        added.push(group("onsite-condition", l.conditionGroup, [{ id: "onsite-condition", component: Condition, element, choices, isEdited: isTextAreaEntryEdited }]));
      }
      const timer = groups.find((g) => g.id === "timer");
      if (timer) timer.entries.push({ id: "onsite-timer-hint", component: Hint, text: choices.hints.timer });
      // After "General" (and documentation): what this engine needs comes before the rest.
      const at = Math.min(groups.length, groups.findIndex((g) => g.id === "documentation") + 1 || 1);
      groups.splice(at, 0, ...added);
      return groups;
    };
  };
  propertiesPanel.registerProvider(400, this);
}

OnsitePropertiesProvider.$inject = ["propertiesPanel", "injector", "config.onsiteChoices"];
