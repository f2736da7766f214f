-- An execution's durable state, folded as its events are written (in the same statement as
-- the outbox rows), so it outlives the pruned events and the Temporal history:
-- * `state` is a JSON document built by JSON merge patches (RFC 7386), one per event, that
--   the writer derives from each event (events/execution_state.py);
-- * `status` is the state's status, in the same transaction as the event that changed it;
-- * `run_id` is the Temporal run that registered the execution (its first run);
-- * `pruned_position` is the last position of the execution's events that retention has
--   deleted: with the channel's remaining positions it gives the snapshot's position.
ALTER TABLE executions
    ADD COLUMN run_id text,
    ADD COLUMN state jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN pruned_position bigint NOT NULL DEFAULT 0;

-- The listing: newest first by (created_at, id), a keyset cursor, filtered by status or flow.
DROP INDEX executions_user_created;
CREATE INDEX executions_user_created ON executions (user_id, created_at DESC, id DESC);
CREATE INDEX executions_user_status_created
    ON executions (user_id, status, created_at DESC, id DESC);
CREATE INDEX executions_user_flow_created
    ON executions (user_id, workflow_id, created_at DESC, id DESC);

-- RFC 7386: an object patch merges member by member, a null member deletes, anything else
-- replaces. plpgsql, not SQL: a SQL function cannot call itself before it exists.
CREATE FUNCTION jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    merged jsonb;
    member record;
BEGIN
    IF jsonb_typeof(patch) IS DISTINCT FROM 'object' THEN
        RETURN patch;
    END IF;
    merged := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
    FOR member IN SELECT key, value FROM jsonb_each(patch) LOOP
        IF jsonb_typeof(member.value) = 'null' THEN
            merged := merged - member.key;
        ELSE
            merged := jsonb_set(
                merged, ARRAY[member.key], jsonb_merge_patch(merged -> member.key, member.value)
            );
        END IF;
    END LOOP;
    RETURN merged;
END
$$;

-- Apply `patches[i]` to execution `ids[i]`, in array order; executions are locked in id
-- order (two writers of the same executions cannot deadlock). An id without a row (an
-- execution nobody registered) is skipped.
CREATE FUNCTION execution_fold(ids text[], patches jsonb[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    execution text;
    folded jsonb;
    patch jsonb;
    touched integer := 0;
BEGIN
    FOR execution IN SELECT DISTINCT u.id FROM unnest(ids) AS u (id) ORDER BY 1 LOOP
        SELECT state INTO folded FROM executions WHERE id = execution FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        FOR patch IN
            SELECT u.patch FROM unnest(ids, patches) WITH ORDINALITY AS u (id, patch, n)
            WHERE u.id = execution ORDER BY u.n
        LOOP
            folded := jsonb_merge_patch(folded, patch);
        END LOOP;
        UPDATE executions
        SET state = folded, status = coalesce(folded ->> 'status', status), updated_at = now()
        WHERE id = execution;
        touched := touched + 1;
    END LOOP;
    RETURN touched;
END
$$;
