-- The flow's graph (its nodes, their types and `after` edges, a condition's branches), written
-- with the execution's row so a UI can draw the flow before any node has run. Older rows
-- have none (NULL).
ALTER TABLE executions ADD COLUMN graph jsonb;
