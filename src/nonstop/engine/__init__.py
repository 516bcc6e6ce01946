"""The execution plane: the cycle and the owners it hands off between."""
