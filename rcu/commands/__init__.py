"""The rcu commands by topic; rcu.cli puts them together under one name each."""
