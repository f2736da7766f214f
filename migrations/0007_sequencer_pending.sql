-- Sequencing cost independent of the table's history, and one round trip per wake-up:
-- * the batch says whether committed rows still wait (behind an open transaction), which
--   the sequencer asked in a second query before;
-- * scans start at the horizon below which every row is numbered (kept in the state row),
--   instead of walking the index entries of numbered rows that vacuum has not removed yet;
-- * plans are pinned to index probes: a long-lived sequencer session caches its plans, and a
--   plan made while the table looked empty (a seq scan, a hash join) costs O(table) a batch.
ALTER TABLE outbox_sequencer ADD COLUMN horizon xid8 NOT NULL DEFAULT '0';

DROP FUNCTION outbox_sequence(integer, text);

CREATE FUNCTION outbox_sequence(
    batch_size integer, notify_channel text, OUT numbered bigint, OUT pending boolean
)
LANGUAGE plpgsql VOLATILE
-- jit off: the one-row state table has no index to probe, and the penalty cost of its
-- forced seq scan would otherwise trigger JIT compiling on every call.
SET jit = off
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    last_pos bigint;
    old_horizon xid8;
    new_horizon xid8;
    head bigint;
    final_seqs bigint[];
    final_txids xid8[];
BEGIN
    SELECT last_position, horizon INTO last_pos, old_horizon FROM outbox_sequencer FOR UPDATE;
    -- Every transaction below this xmin has ended, and every later one gets a larger id.
    new_horizon := pg_snapshot_xmin(pg_current_snapshot());

    SELECT array_agg(seq ORDER BY txid, seq), array_agg(txid ORDER BY txid, seq)
    INTO final_seqs, final_txids
    FROM (
        SELECT seq, txid FROM event_outbox
        WHERE position IS NULL AND txid >= old_horizon AND txid < new_horizon
        ORDER BY txid, seq
        LIMIT batch_size
    ) final_rows;
    numbered := coalesce(cardinality(final_seqs), 0);

    IF numbered > 0 THEN
        WITH numbered_rows AS (
            UPDATE event_outbox o
            SET position = last_pos + batch.rn, sequenced_at = clock_timestamp()
            FROM unnest(final_seqs) WITH ORDINALITY AS batch (seq, rn)
            WHERE o.seq = batch.seq
            RETURNING o.position, o.channels
        )
        INSERT INTO event_channel_positions (channel, position)
        SELECT jsonb_array_elements_text(numbered_rows.channels), numbered_rows.position
        FROM numbered_rows;
        head := last_pos + numbered;
        IF numbered = batch_size THEN
            -- A full batch may have stopped inside one transaction's rows: resume at its id.
            new_horizon := final_txids[numbered];
        END IF;
        UPDATE outbox_sequencer SET last_position = head, horizon = new_horizon;
        PERFORM pg_notify(notify_channel, head::text);
    ELSE
        new_horizon := old_horizon;  -- nothing to write: an idle wake-up stays read-only
    END IF;
    -- A fresh snapshot: sees this batch's positions and every row committed since.
    pending := EXISTS (
        SELECT 1 FROM event_outbox WHERE position IS NULL AND txid >= new_horizon
    );
END
$$;
