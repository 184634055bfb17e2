"""HTTP routers: parse, call a service, return a response schema."""
