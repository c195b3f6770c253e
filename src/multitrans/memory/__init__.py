"""The translation memory: the SQLite store (store.py) and the session that wraps a run (session.py).

Owns remembering and finding again what engines translated.  Imports the pipeline's
plain data (plan, run results, segment spans) and the engines' identity; never edits
a plan or a result it is given.
"""
