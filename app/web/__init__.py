"""The web pages for the weekly casusoverleg, in Dutch, under /app/: server-rendered (Jinja2), no
scripts of their own, no external assets. Every page reads and changes through the same access
policies, services and audit as the API: the session cookie stands in for the bearer token."""
