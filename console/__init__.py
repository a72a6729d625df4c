"""The engine console: the coordinators' workbench over `workflows` (process models and versions,
the modeler, migration of running instances, the instance monitor and the heat-map). It imports
`workflows` only and knows nothing of telecom; what the domain adds (the facets instances are
filtered by, the records pinned to a version) it registers with the engine."""
