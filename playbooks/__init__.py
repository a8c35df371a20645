"""Playbooks: domain events and dates turned into tasks and tech-touch emails for the right person.

Playbooks subscribe to what portfolio, surveys and health announce (``core.events``, after commit);
none of those apps imports playbooks.
"""
