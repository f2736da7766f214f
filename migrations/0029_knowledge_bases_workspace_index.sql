-- migrate: no-transaction
-- A workspace member's knowledge bases: the workspace's shared ones.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS knowledge_bases_workspace
    ON knowledge_bases (workspace_id, created_at DESC) WHERE visibility = 'workspace';
