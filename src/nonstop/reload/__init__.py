"""Hot reload of strategy modules: detection, validate-then-swap, generations, rollback."""
