"""Named API tokens: a user creates one per client, sees its name and when it was last used,
and revokes it alone. Only a SHA-256 digest of each key is stored."""
