"""The control plane's contract: control.json, its schema, its one writer library."""
