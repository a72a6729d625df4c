// The read-only diagram of the console's pages (versions, instances, heat-map): bpmn-js's
// NavigatedViewer (pan and zoom), exposed to the pages' own scripts as `window.OnsiteBpmn.Viewer`.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

window.OnsiteBpmn = Object.assign(window.OnsiteBpmn || {}, { Viewer: NavigatedViewer });
