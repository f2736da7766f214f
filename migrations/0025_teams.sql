-- Teams (docs/teams.md): every execution and knowledge base belongs to its owner and to the
-- owner's workspace (a token's workspace claim; NULL: the owner's personal workspace of one).
-- `visibility` says who of the workspace may watch: 'private' (the owner only, as before)
-- or 'workspace' (every member). Columns with a constant default are catalogue changes;
-- the previous release writes neither and its rows are private and personal, as they were.
-- Their indexes are built concurrently, one per file (0026-0029).
SET LOCAL lock_timeout = '5s';
ALTER TABLE executions
    ADD COLUMN IF NOT EXISTS workspace_id text,
    ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'private'
        CHECK (visibility IN ('private', 'workspace'));
ALTER TABLE knowledge_bases
    ADD COLUMN IF NOT EXISTS workspace_id text,
    ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'private'
        CHECK (visibility IN ('private', 'workspace'));
