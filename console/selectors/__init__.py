"""The console's reads of the engine's tables: data for its pages, in one or a few queries each."""
