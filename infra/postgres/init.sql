-- Runs once, when the PostgreSQL volume is created: the results store's database (Temporal's
-- auto-setup creates its own `temporal` and `temporal_visibility` databases).
CREATE DATABASE agentbalance;
