"""`crosspath-sync`: make CrossPath's companies and missions match a partner's JSON Lines files.

read (inputs, current) → compare (compare, plan) → apply in batches (apply) → report; what it
needs to resume and to read only what changed is kept in the state file (state).
"""
