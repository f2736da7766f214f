-- migrate: no-transaction
-- The inbox of a personal workspace: the user's executions with an open prompt.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS executions_prompting_user
    ON executions (user_id) WHERE state -> 'pendingInputs' <> '{}'::jsonb;
