-- One sequencing batch as one server-side call: each statement of a VOLATILE plpgsql function
-- takes a fresh snapshot under READ COMMITTED, so numbering runs after the state row lock is
-- held and sees the previous holder's batch; the whole batch costs one round trip.
CREATE FUNCTION outbox_sequence(batch_size integer, notify_channel text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_pos bigint;
    numbered_count bigint;
    head bigint;
BEGIN
    SELECT last_position INTO last_pos FROM outbox_sequencer FOR UPDATE;

    WITH batch AS (
        SELECT seq, row_number() OVER (ORDER BY txid, seq) AS rn
        FROM (
            SELECT seq, txid FROM event_outbox
            WHERE position IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY txid, seq
            LIMIT batch_size
        ) final_rows
    ), numbered AS (
        UPDATE event_outbox o
        SET position = last_pos + batch.rn, sequenced_at = clock_timestamp()
        FROM batch
        WHERE o.seq = batch.seq AND o.position IS NULL
        RETURNING o.position, o.channels
    ), indexed AS (
        INSERT INTO event_channel_positions (channel, position)
        SELECT jsonb_array_elements_text(numbered.channels), numbered.position FROM numbered
    )
    SELECT count(*), max(position) INTO numbered_count, head FROM numbered;

    IF numbered_count > 0 THEN
        UPDATE outbox_sequencer SET last_position = head;
        PERFORM pg_notify(notify_channel, head::text);
    END IF;
    RETURN numbered_count;
END
$$;
