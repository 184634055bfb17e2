#!/bin/sh
# First start of the database container: the role that owns the tables (migrations, the audit log's own
# retention) and the role the application connects as, which owns nothing, so row-level security and
# the append-only audit log hold for it. Neither is a superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE casusregister_owner LOGIN PASSWORD '${OWNER_DB_PASSWORD}';
CREATE ROLE casusregister_app LOGIN PASSWORD '${APP_DB_PASSWORD}';
CREATE DATABASE casusregister OWNER casusregister_owner;
SQL
