-- Sequencing cost independent of the table's history, and one round trip per wake-up:
-- * the batch says whether committed rows still wait (behind an open transaction), which
--   the sequencer asked in a second query before;
-- * scans start after the point (txid, seq) up to which every row is numbered (kept in the
--   state row), instead of walking the index entries of numbered rows that vacuum has not
--   removed yet, even inside one huge transaction;
-- * plans are pinned to index probes: a long-lived sequencer session caches its plans, and a
--   plan made while the table looked empty (a seq scan, a hash join) costs O(table) a batch.
ALTER TABLE outbox_sequencer
    ADD COLUMN horizon_txid xid8 NOT NULL DEFAULT '0',
    ADD COLUMN horizon_seq bigint NOT NULL DEFAULT 0;

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
    done_txid xid8;
    done_seq bigint;
    xmin_now xid8;
    head bigint;
    final_seqs bigint[];
    final_txids xid8[];
BEGIN
    SELECT last_position, horizon_txid, horizon_seq INTO last_pos, done_txid, done_seq
    FROM outbox_sequencer FOR UPDATE;
    -- Every transaction below this xmin has ended, and every later one gets a larger id.
    xmin_now := pg_snapshot_xmin(pg_current_snapshot());
    IF done_txid > pg_snapshot_xmax(pg_current_snapshot()) THEN
        -- A horizon from another cluster's xid space (a dump restored, a logical copy
        -- promoted): it would hide every new row. Rescan from the start instead.
        done_txid := '0';
        done_seq := 0;
    END IF;

    SELECT array_agg(seq ORDER BY txid, seq), array_agg(txid ORDER BY txid, seq)
    INTO final_seqs, final_txids
    FROM (
        SELECT seq, txid FROM event_outbox
        WHERE position IS NULL AND (txid, seq) > (done_txid, done_seq) AND txid < xmin_now
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
            -- A full batch may stop inside one transaction's rows: resume after its last.
            done_txid := final_txids[numbered];
            done_seq := final_seqs[numbered];
        ELSE
            done_txid := xmin_now;  -- every row below it is numbered now
            done_seq := 0;
        END IF;
        UPDATE outbox_sequencer
        SET last_position = head, horizon_txid = done_txid, horizon_seq = done_seq;
        PERFORM pg_notify(notify_channel, head::text);
    END IF;
    -- A fresh snapshot: sees this batch's positions and every row committed since.
    pending := EXISTS (
        SELECT 1 FROM event_outbox
        WHERE position IS NULL AND (txid, seq) > (done_txid, done_seq)
    );
END
$$;
