-- The W3C traceparent of the span that wrote an event (NULL when it was not traced): a
-- gateway continues that trace when it fans the event out, and the public envelope stays
-- as it was. A nullable column without a default is a catalogue change only; the lock it
-- needs is brief, and waits no longer than this for a transaction holding the table.
SET LOCAL lock_timeout = '5s';
ALTER TABLE event_outbox ADD COLUMN IF NOT EXISTS trace_context text;
