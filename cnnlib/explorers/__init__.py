"""Interactive explorers, one module per topic; each builds on cnnlib.widgets.explorer."""
