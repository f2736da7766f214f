-- Presence: who watches which channel, written by each gateway for its own sockets under a
-- lease it renews. A gateway that dies stops renewing; any other gateway then deletes its
-- expired lease and, by the cascade, what it had written.
CREATE TABLE gateway_leases (
    gateway_id text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE TABLE presence (
    channel     text NOT NULL,
    user_id     text NOT NULL,
    gateway_id  text NOT NULL REFERENCES gateway_leases ON DELETE CASCADE,
    connections integer NOT NULL CHECK (connections > 0),
    PRIMARY KEY (channel, user_id, gateway_id)
);
CREATE INDEX presence_gateway ON presence (gateway_id);
