"""Leme's lowest layer: no models, no knowledge of customers or people. The event bus, the clock and
the registries the apps above plug into live here; every app may import ``core``, ``core`` imports none."""
