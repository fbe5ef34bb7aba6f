#!/bin/sh
# Runs once, when the postgres volume is first initialised: n8n's own role and database,
# beside the platform's (n8n keeps its workflows and executions there, not in SQLite).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v n8n_password="$N8N_DB_PASSWORD" <<'SQL'
CREATE ROLE n8n LOGIN PASSWORD :'n8n_password';
CREATE DATABASE n8n OWNER n8n;
SQL
