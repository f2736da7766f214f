-- migrate: no-transaction
-- A workspace member's listing: the workspace's shared executions, newest first (their own
-- private ones come from executions_user_created).
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS executions_workspace_created
    ON executions (workspace_id, created_at DESC, id DESC) WHERE visibility = 'workspace';
