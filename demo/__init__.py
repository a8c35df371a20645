"""Leme's demo: a Brazilian CS team, its customers' three years and a year of surveys, for trying Leme out
(``manage.py seed_demo``, run by ``bin/run``) and for benchmarks.

This app sits with the project's configuration, above every domain app: it may import all of them and none
of them imports it. ``demo.seed.STAGES`` lists what is seeded, in order.
"""
