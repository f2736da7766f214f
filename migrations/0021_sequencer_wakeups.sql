-- Cheaper wake-ups, both ways.
--
-- Emitters NOTIFY only while the sequencer sleeps. Postgres signals every backend that
-- listens in the database on every NOTIFY, whatever its channel: an emitter's wake-up also
-- woke each gateway process's listeners. Under load the sequencer now stays awake (it calls
-- again at once instead of waiting) and says so in `sleeping`; emitters read the flag after
-- inserting their rows and skip the NOTIFY while it is down.
--
-- Falling asleep must not strand a row: an emitter that read the flag down may still be
-- about to commit. The flag goes up first; the next batch records its own transaction id as
-- the horizon `settle_horizon`. That id was handed out after the flag's commit, and every such
-- emitter had its id (taken by its insert) before it read the flag, so before that commit:
-- all of them are below the horizon. The sequencer keeps calling, every few milliseconds,
-- until a batch starts with every transaction up to the horizon ended (xmin above it), so
-- that this batch sees their rows. (A snapshot's xmax is no such bound: it is the latest
-- completed id plus one, and ids handed out later may still be running.)
--
-- Small sequenced batches travel in the sequencer's NOTIFY, so each outbox tail (one per
-- gateway process) skips the read that followed every wake-up. The payload is the new head
-- and the state row's `notify_token` (a tab between), then one line per row, in order:
--     position TAB created_at (epoch seconds) TAB type TAB channels (json) TAB envelope (json)
-- jsonb's text form never holds a raw tab or newline (both are escaped inside strings), so
-- the separators are unambiguous. A batch that does not fit in `payload_bytes` (NOTIFY
-- refuses 8000 bytes and more) sends the head alone, as before, and tails read it.
--
-- Defaults keep the previous release's sequencer working during an upgrade: it never lowers
-- the flag, so emitters keep notifying; taking over from an awake sequencer, it polls while
-- settling (reported to it as pending: it knows no other reason to call again).
ALTER TABLE outbox_sequencer
    ADD COLUMN sleeping boolean NOT NULL DEFAULT true,
    ADD COLUMN settle_horizon xid8,
    -- Carried rows are believed only with this token, which only a role that may read the
    -- state row knows: anyone who may connect may NOTIFY, or take the advisory lock.
    ADD COLUMN notify_token text NOT NULL DEFAULT gen_random_uuid()::text;

CREATE FUNCTION outbox_written(notify_channel text, inserted bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Called with the count of rows this statement inserted, so the insert (and its
    -- transaction id) comes first; a VOLATILE function's query takes a fresh snapshot under
    -- READ COMMITTED and so sees the flag as of now. Other isolation levels read the
    -- transaction's snapshot, which may be older: they always notify.
    IF inserted > 0 AND (
        current_setting('transaction_isolation') <> 'read committed'
        OR (SELECT sleeping FROM outbox_sequencer)
    ) THEN
        PERFORM pg_notify(notify_channel, '');
    END IF;
    RETURN inserted;
END
$$;

DROP FUNCTION outbox_sequence(integer, text);

CREATE FUNCTION outbox_sequence(
    batch_size integer,
    notify_channel text,
    payload_bytes integer DEFAULT 0,
    awake_at integer DEFAULT 0,
    OUT numbered bigint,
    OUT pending boolean,
    OUT awake boolean,
    OUT settling boolean
)
LANGUAGE plpgsql VOLATILE
-- jit off and pinned index probes: see 0007_sequencer_pending.sql.
SET jit = off
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    last_pos bigint;
    done_txid xid8;
    done_seq bigint;
    was_sleeping boolean;
    settle_at xid8;
    stored_sleeping boolean;
    stored_settle xid8;
    token text;
    settled boolean;
    now_snapshot pg_snapshot;
    xmin_now xid8;
    head bigint;
    final_seqs bigint[];
    final_txids xid8[];
    batch_lines text;
BEGIN
    SELECT last_position, horizon_txid, horizon_seq, sleeping, settle_horizon, notify_token
    INTO last_pos, done_txid, done_seq, was_sleeping, settle_at, token
    FROM outbox_sequencer FOR UPDATE;
    stored_sleeping := was_sleeping;
    stored_settle := settle_at;
    now_snapshot := pg_current_snapshot();
    -- Every transaction below this xmin has ended, and every later one gets a larger id.
    xmin_now := pg_snapshot_xmin(now_snapshot);
    IF done_txid > pg_snapshot_xmax(now_snapshot) THEN
        -- A horizon from another cluster's xid space: rescan from the start (see 0007).
        done_txid := '0';
        done_seq := 0;
    END IF;
    IF settle_at >= pg_snapshot_xmax(now_snapshot) THEN
        settle_at := '0';  -- a horizon from another cluster's xid space: take it again
    END IF;
    IF settle_at = '0' THEN
        -- The flag went up in the previous batch; this transaction's id (taken by the FOR
        -- UPDATE above) came after that commit, so it bounds every emitter that saw it down.
        settle_at := pg_current_xact_id();
    END IF;
    -- Decided before the scan, so that the scan sees the rows of every such emitter; never
    -- in the call that took the horizon (its own transaction is still running).
    settled := settle_at IS NOT NULL AND xmin_now > settle_at;
    IF settle_at IS NOT NULL AND NOT settled AND settle_at <> pg_current_xact_id() THEN
        -- Something below the horizon still runs, maybe nothing of ours (a long transaction
        -- anywhere in the cluster holds xmin back). Only an emitter can have seen the flag
        -- down, and an emitter holds its insert's lock on event_outbox here until it ends.
        settled := NOT EXISTS (
            SELECT 1
            FROM pg_snapshot_xip(now_snapshot) AS running (xid)
            JOIN pg_locks t ON t.locktype = 'transactionid'
                AND t.transactionid::text::bigint = running.xid::text::bigint % 4294967296
            JOIN pg_locks r ON r.virtualtransaction = t.virtualtransaction
                AND r.locktype = 'relation' AND r.relation = 'event_outbox'::regclass
                AND r.mode = 'RowExclusiveLock'
                AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            WHERE running.xid < settle_at
        );
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
            RETURNING o.position, o.type, o.channels, o.envelope, o.created_at
        ), indexed AS (
            INSERT INTO event_channel_positions (channel, position)
            SELECT jsonb_array_elements_text(numbered_rows.channels), numbered_rows.position
            FROM numbered_rows
        )
        -- Lines are only built for a batch that can fit: every line is longer than 8 bytes,
        -- and the stored (possibly compressed) sizes, read without detoasting, must fit too.
        SELECT string_agg(
            concat_ws(
                E'\t', r.position, extract(epoch FROM r.created_at)::float8, r.type,
                r.channels::text, r.envelope::text
            ),
            E'\n' ORDER BY r.position
        )
        INTO batch_lines
        FROM numbered_rows r
        WHERE numbered * 8 < payload_bytes
          AND (SELECT sum(pg_column_size(x.envelope)) FROM numbered_rows x) < payload_bytes;
        head := last_pos + numbered;
        IF numbered = batch_size THEN
            -- A full batch may stop inside one transaction's rows: resume after its last.
            done_txid := final_txids[numbered];
            done_seq := final_seqs[numbered];
        ELSE
            done_txid := xmin_now;  -- every row below it is numbered now
            done_seq := 0;
        END IF;
        IF batch_lines IS NOT NULL AND octet_length(batch_lines) + 58 < payload_bytes THEN
            PERFORM pg_notify(notify_channel, head::text || E'\t' || token || E'\n' || batch_lines);
        ELSE
            PERFORM pg_notify(notify_channel, head::text);
        END IF;
    ELSE
        head := last_pos;
    END IF;

    IF awake_at > 0 AND numbered >= awake_at
       AND (SELECT count(DISTINCT t) FROM unnest(final_txids) t) >= awake_at THEN
        -- Commits arrive faster than batches turn around: stay awake, emitters stop notifying.
        was_sleeping := false;
        settle_at := NULL;
    ELSIF NOT was_sleeping THEN
        was_sleeping := true;  -- visible from this commit on; the next batch takes the horizon
        settle_at := '0';
    ELSIF settled THEN
        settle_at := NULL;  -- asleep: every emitter that saw the flag down has been read
    END IF;
    IF numbered > 0 OR was_sleeping <> stored_sleeping
       OR settle_at IS DISTINCT FROM stored_settle THEN
        UPDATE outbox_sequencer
        SET last_position = head, horizon_txid = done_txid, horizon_seq = done_seq,
            sleeping = was_sleeping, settle_horizon = settle_at;
    END IF;

    awake := NOT was_sleeping;
    -- Still falling asleep: the sequencer must call again soon, without a NOTIFY.
    settling := settle_at IS NOT NULL;
    -- A fresh snapshot: sees this batch's positions and every row committed since.
    pending := EXISTS (
        SELECT 1 FROM event_outbox
        WHERE position IS NULL AND (txid, seq) > (done_txid, done_seq)
    ) OR (awake_at = 0 AND settling);
END
$$;
