-- The sequenced batch for a broker: the process that numbers a batch also publishes it.
--
-- `outbox_sequence_published` runs one `outbox_sequence` batch (unchanged: it still NOTIFYs,
-- for the gateways that tail Postgres) and returns, besides what that returns, the new head
-- and the batch's rows as lines in the NOTIFY payload's format (0021):
--     position TAB created_at (epoch seconds) TAB type TAB channels (json) TAB envelope (json)
-- one per row, in order, or NULL when the batch is empty or its text reaches
-- `publish_bytes` (the broker's message limit): a receiver then reads the batch itself.
-- One round trip, in the batch's own transaction, so the rows need no second read.
CREATE FUNCTION outbox_sequence_published(
    batch_size integer,
    notify_channel text,
    payload_bytes integer,
    awake_at integer,
    publish_bytes integer,
    OUT numbered bigint,
    OUT pending boolean,
    OUT awake boolean,
    OUT settling boolean,
    OUT head bigint,
    OUT lines text
)
LANGUAGE plpgsql VOLATILE
SET jit = off
AS $$
DECLARE
    before bigint;
BEGIN
    -- outbox_sequence locks the same row first thing; taking it here reads the head it
    -- numbers from.
    SELECT last_position INTO before FROM outbox_sequencer FOR UPDATE;
    SELECT s.numbered, s.pending, s.awake, s.settling
    INTO numbered, pending, awake, settling
    FROM outbox_sequence(batch_size, notify_channel, payload_bytes, awake_at) s;
    head := before + numbered;
    -- Every line is longer than 8 bytes: a batch that cannot fit is not built.
    IF numbered > 0 AND numbered * 8 < publish_bytes THEN
        SELECT string_agg(
            concat_ws(
                E'\t', o.position, extract(epoch FROM o.created_at)::float8, o.type,
                o.channels::text, o.envelope::text
            ),
            E'\n' ORDER BY o.position
        )
        INTO lines
        FROM event_outbox o
        WHERE o.position > before AND o.position <= head;
        IF octet_length(lines) >= publish_bytes THEN
            lines := NULL;
        END IF;
    END IF;
END
$$;
