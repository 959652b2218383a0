"""Writes of the campaigns app, one module per concern.

campaigns.py  create / edit / start / pause / resume / cancel / send a test
sending.py    the sending run: claim outbox rows, talk SMTP, record answers
rendering.py  one recipient's message (merge, tracking, headers)
tracking.py   signed tokens; opens, clicks, unsubscribes
"""
