-- migrate: no-transaction
-- The inbox reads only executions with an open prompt (gateway/inbox.py repeats the
-- predicate): a workspace's.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS executions_prompting_workspace
    ON executions (workspace_id) WHERE state -> 'pendingInputs' <> '{}'::jsonb;
