-- The budgets' tables (0024) hold counters that matter only while gateways run: a share is
-- written again under a new lease, a bucket refills. Unlogged, taking or spending writes no
-- WAL and its commit waits for no flush (a hold cost about ten round trips' worth of
-- commit before; `python -m bench user_budgets`). After a crash Postgres empties them, which
-- only lets users in.
SET LOCAL lock_timeout = '5s';

ALTER TABLE budget_holds SET UNLOGGED;
ALTER TABLE user_budgets SET UNLOGGED;

-- A release deletes the shares it took to nothing among its own batch's, not by a scan of
-- every share of its gateway: a disconnect costs its own rows.
CREATE OR REPLACE FUNCTION budget_release(
    p_gateway text, users text[], budgets text[], counts integer[]
) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE budget_holds h SET held = greatest(0, h.held - r.n)
    FROM unnest(users, budgets, counts) AS r (user_id, budget, n)
    WHERE h.gateway_id = p_gateway AND h.user_id = r.user_id AND h.budget = r.budget;
    DELETE FROM budget_holds h
    USING unnest(users, budgets) AS r (user_id, budget)
    WHERE h.user_id = r.user_id AND h.budget = r.budget AND h.gateway_id = p_gateway
      AND h.held = 0;
END
$$;
