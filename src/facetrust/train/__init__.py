"""Training workbench (needs torch: ``pip install -e .[train]``). Inference never imports it."""
