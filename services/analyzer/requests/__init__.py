"""Survey requests: whom in an account to ask now, why and what, and how well each account is covered."""
