"""The agent's toolkit behind `/ticket`: one module per tool, each serving its verbs for every chat adapter.

A question (search, kb, replies, macros, queue with a view) is answered through the adapter's `Answers`
renderer; a change (macro, time, ask, undo) returns an ActionResult or a one-line summary, like the
verbs in `bot.adapters.actions`. The platforms add only their own controls (a select in a form, an
autocomplete, a button) on top.
"""
