-- When an execution's status last changed (the list view's "updated" column).
ALTER TABLE executions ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
