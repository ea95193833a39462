"""Built-in synthesis families, one module each; every module here is imported by the registry."""
