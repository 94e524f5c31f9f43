"""The engine: the only place torch is imported (never Qt). Importing this package imports nothing heavy."""
