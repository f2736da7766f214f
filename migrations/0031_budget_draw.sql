-- A batch of a rate's tokens for one process to spend locally (the socket-message rate: a
-- round trip per message would cost more than the message): grants what the balance holds,
-- up to `wanted`, and when it holds less than one token, grants none and says how long until
-- one is back. A new function: the previous release never calls it.
CREATE FUNCTION budget_draw(
    p_user text, p_budget text, wanted integer, rate double precision, burst double precision,
    OUT granted integer, OUT wait double precision
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    balance double precision;
    stamp timestamptz := clock_timestamp();
BEGIN
    INSERT INTO user_budgets (user_id, budget) VALUES (p_user, p_budget) ON CONFLICT DO NOTHING;
    SELECT least(burst, coalesce(tokens + extract(epoch FROM stamp - at) * rate, burst))
    INTO balance FROM user_budgets WHERE user_id = p_user AND budget = p_budget FOR UPDATE;
    granted := least(wanted, floor(balance))::integer;
    IF granted < 1 THEN
        granted := 0;
        wait := (1 - balance) / rate;
    ELSE
        wait := 0;
    END IF;
    UPDATE user_budgets SET tokens = balance - granted, at = stamp
    WHERE user_id = p_user AND budget = p_budget;
END
$$;
