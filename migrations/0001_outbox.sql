-- Ownership: written when an execution or knowledge base is created, before any event exists.
CREATE TABLE executions (
    id          text PRIMARY KEY,
    user_id     text NOT NULL,
    workflow_id text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    inputs      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX executions_user_created ON executions (user_id, created_at DESC);

CREATE TABLE knowledge_bases (
    id         text PRIMARY KEY,
    owner_id   text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX knowledge_bases_owner ON knowledge_bases (owner_id);

-- The outbox. `seq` is the insertion order, `txid` the writing transaction; `position` is
-- assigned by the sequencer once the row is final (txid below every running transaction).
CREATE TABLE event_outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id     uuid NOT NULL UNIQUE,
    position     bigint UNIQUE,
    type         text NOT NULL,
    channels     jsonb NOT NULL,
    envelope     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sequenced_at timestamptz
);
CREATE INDEX event_outbox_unsequenced ON event_outbox (txid, seq) WHERE position IS NULL;

-- One row per (channel, position): a channel's replay is one index range scan.
CREATE TABLE event_channel_positions (
    channel  text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (channel, position)
);

-- The sequencer's durable state; its row lock also serialises two sequencers.
CREATE TABLE outbox_sequencer (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_position  bigint NOT NULL DEFAULT 0,
    pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO outbox_sequencer DEFAULT VALUES;
