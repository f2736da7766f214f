-- Per-user budgets shared by every gateway process and host (gateway/budgets.py).
--
-- Two kinds, both keyed by (user, budget name):
-- * a *hold* counts what a user has open at once (sockets, streams, replays...). Each gateway
--   writes its own share under its presence lease (0020): a gateway that dies stops renewing,
--   its lease is swept and its shares go with it (ON DELETE CASCADE), so a killed gateway
--   never leaves a user locked out. Only live leases are summed.
-- * a *rate* is a token bucket (tokens refill at `rate` a second up to `burst`); what a dead
--   gateway spent simply refills.
-- The user's `user_budgets` row is locked while a hold is checked, so two gateways admitting
-- the same user at once cannot both pass the count.
--
-- Expand only: new tables and functions. `budget_holds` references `gateway_leases`, which
-- locks that (small, hot) table briefly: within the lock budget.
SET LOCAL lock_timeout = '5s';

CREATE TABLE user_budgets (
    user_id text NOT NULL,
    budget  text NOT NULL,
    tokens  double precision,
    at      timestamptz,
    PRIMARY KEY (user_id, budget)
);

CREATE TABLE budget_holds (
    user_id    text NOT NULL,
    budget     text NOT NULL,
    gateway_id text NOT NULL REFERENCES gateway_leases ON DELETE CASCADE,
    held       integer NOT NULL CHECK (held >= 0),
    PRIMARY KEY (user_id, budget, gateway_id)
);
CREATE INDEX budget_holds_gateway ON budget_holds (gateway_id);

-- Take `wanted` more of `p_budget` for `p_user` on gateway `p_gateway`, if the user's total
-- over live leases stays within `maximum`. Returns the total before: at most
-- `maximum - wanted` when taken; more than that when refused (nothing changed); -1 when the
-- gateway holds no live lease (it must renew it and write its shares again first).
CREATE FUNCTION budget_hold(
    p_gateway text, p_user text, p_budget text, wanted integer, maximum integer
) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    total integer;
BEGIN
    PERFORM 1 FROM gateway_leases WHERE gateway_id = p_gateway AND expires_at > now();
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    INSERT INTO user_budgets (user_id, budget) VALUES (p_user, p_budget) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM user_budgets WHERE user_id = p_user AND budget = p_budget FOR UPDATE;
    SELECT coalesce(sum(h.held), 0) INTO total
    FROM budget_holds h JOIN gateway_leases l USING (gateway_id)
    WHERE h.user_id = p_user AND h.budget = p_budget AND l.expires_at > now();
    IF total + wanted > maximum THEN
        RETURN total;
    END IF;
    INSERT INTO budget_holds (user_id, budget, gateway_id, held)
    VALUES (p_user, p_budget, p_gateway, wanted)
    ON CONFLICT (user_id, budget, gateway_id)
    DO UPDATE SET held = budget_holds.held + EXCLUDED.held;
    RETURN total;
END
$$;

-- Give back what gateway `p_gateway` no longer holds (a batch: users[i] gives back
-- counts[i] of budgets[i]); shares down to nothing are deleted.
CREATE FUNCTION budget_release(
    p_gateway text, users text[], budgets text[], counts integer[]
) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE budget_holds h SET held = greatest(0, h.held - r.n)
    FROM unnest(users, budgets, counts) AS r (user_id, budget, n)
    WHERE h.gateway_id = p_gateway AND h.user_id = r.user_id AND h.budget = r.budget;
    DELETE FROM budget_holds WHERE gateway_id = p_gateway AND held = 0;
END
$$;

-- Spend `amount` of the token bucket (`rate` a second, at most `burst`). Returns 0 when spent,
-- else the seconds until it could be (nothing spent). With `debt`, the amount is spent
-- whatever the balance (what was already sent is charged) and the answer is the seconds until
-- the balance is back to zero.
CREATE FUNCTION budget_spend(
    p_user text, p_budget text, amount double precision, rate double precision,
    burst double precision, debt boolean
) RETURNS double precision
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    balance double precision;
    stamp timestamptz := clock_timestamp();
BEGIN
    INSERT INTO user_budgets (user_id, budget) VALUES (p_user, p_budget) ON CONFLICT DO NOTHING;
    SELECT least(burst, coalesce(tokens + extract(epoch FROM stamp - at) * rate, burst))
    INTO balance FROM user_budgets WHERE user_id = p_user AND budget = p_budget FOR UPDATE;
    IF debt THEN
        balance := balance - amount;
    ELSIF balance >= amount THEN
        balance := balance - amount;
    ELSE
        UPDATE user_budgets SET tokens = balance, at = stamp
        WHERE user_id = p_user AND budget = p_budget;
        RETURN (amount - balance) / rate;
    END IF;
    UPDATE user_budgets SET tokens = balance, at = stamp
    WHERE user_id = p_user AND budget = p_budget;
    RETURN greatest(0, -balance / rate);
END
$$;
