"""The load and fault test of the production profile (`make load`; see __main__.py)."""
