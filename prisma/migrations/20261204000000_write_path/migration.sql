-- The one write path (src/kernel/writer.ts): every mutation's write is a batch of planned writes
-- applied by ONE call of flint_write, which PostgreSQL runs as one statement and one transaction.
--
-- $1 = { "writes": [w, ...], "apply": [group, ...] }
--   w = { "m": merchantId, "l": livemode, "at": timestamptz,
--         "claim":  { key, operation, requestHash, response, createdAt, expiresAt } | null,
--         "finish": { key, response } | null,           -- replace the stored result of a claimed key
--         "guards": [{ "t": table, "id": id, "match": {...} }],   -- the row must contain `match`
--         "pricing": pricingVersion | null,              -- Merchant."pricingVersion" must still be this
--         "uses":     [{ couponId, orderId, customerKey }],  -- coupon redemptions, limits re-checked
--         "releases": [orderId, ...],                    -- give back an order's coupon redemptions
--         "entries":  [{ "row": activity, "before": text, "after": text }] }
--   group = { "t": table, "k": "insert" | "update" | "delete", "keys": [column, ...], "cols": [column, ...],
--             "rows": [{ "_w": index of its write, column: value, ... }] }
--
-- Each write is judged in order, under row locks taken here (FOR UPDATE; READ COMMITTED re-reads a row
-- once its lock is granted, so a guard sees the latest committed version): its guards, its pricing
-- version, its coupon limits (counted with a fresh snapshot after the coupon row is locked), then its
-- idempotency key. A write that fails any of them writes nothing and is answered with the reason; the
-- others go on. Then the groups (ordered parents first by the caller) are applied for the writes that
-- passed, and last the audit chain heads are locked (in merchant order, so two calls never deadlock on
-- them), the entries numbered and hashed exactly as src/audit/chain.ts entryHash does, and inserted.
-- No round trip to the application happens while anything is locked.
--
-- Result: [{ "ok": true, "entries": [{ sequence, hash, previousHash }] } | { "ok": false, "reason": r, "detail": d }]
-- with r one of guard, pricing, coupon, key.

-- CreateFunction
CREATE FUNCTION "flint_write"(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_w jsonb;
    v_g jsonb;
    v_u jsonb;
    v_e jsonb;
    v_grp jsonb;
    v_i integer := 0;
    v_n integer := jsonb_array_length(batch->'writes');
    v_failed integer[] := '{}';
    v_reasons jsonb[] := array_fill(NULL::jsonb, ARRAY[greatest(v_n, 1)]);
    v_row_json jsonb;
    v_entry "Activity";
    v_version integer;
    v_c record;
    v_uses integer;
    v_reason text;
    v_detail text;
    v_rows jsonb;
    v_set_list text;
    v_key_match text;
    v_col_list text;
    v_released record;
    v_head record;
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_chained jsonb := '[]';
    v_activity jsonb := '[]';
    v_out jsonb := '[]';
    v_per_write jsonb[] := array_fill('[]'::jsonb, ARRAY[greatest(v_n, 1)]);
BEGIN
    -- 1. Judge every write in order.
    FOR v_w IN SELECT value FROM jsonb_array_elements(batch->'writes') LOOP
        v_i := v_i + 1;
        v_reason := NULL;
        v_detail := NULL;
        FOR v_g IN SELECT value FROM jsonb_array_elements(COALESCE(v_w->'guards', '[]')) LOOP
            EXIT WHEN v_reason IS NOT NULL;
            v_row_json := NULL;
            CASE v_g->>'t'
                WHEN 'Order' THEN SELECT to_jsonb(x) INTO v_row_json FROM "Order" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'PaymentIntent' THEN SELECT to_jsonb(x) INTO v_row_json FROM "PaymentIntent" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'Refund' THEN SELECT to_jsonb(x) INTO v_row_json FROM "Refund" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'Coupon' THEN SELECT to_jsonb(x) INTO v_row_json FROM "Coupon" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'CheckoutSession' THEN SELECT to_jsonb(x) INTO v_row_json FROM "CheckoutSession" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'ApiKey' THEN SELECT to_jsonb(x) INTO v_row_json FROM "ApiKey" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                WHEN 'Merchant' THEN SELECT to_jsonb(x) INTO v_row_json FROM "Merchant" x WHERE x."id" = v_g->>'id' FOR UPDATE;
                ELSE EXECUTE format('SELECT to_jsonb(x) FROM %I x WHERE x."id" = $1 FOR UPDATE', v_g->>'t') INTO v_row_json USING v_g->>'id';
            END CASE;
            IF v_row_json IS NULL OR NOT v_row_json @> COALESCE(v_g->'match', '{}') THEN
                v_reason := 'guard';
                v_detail := (v_g->>'t') || ' ' || (v_g->>'id');
            END IF;
        END LOOP;

        IF v_reason IS NULL AND jsonb_typeof(v_w->'pricing') = 'number' THEN
            SELECT m."pricingVersion" INTO v_version FROM "Merchant" m WHERE m."id" = v_w->>'m' FOR SHARE;
            IF v_version IS DISTINCT FROM (v_w->>'pricing')::integer THEN
                v_reason := 'pricing';
            END IF;
        END IF;

        -- Coupon uses: lock each coupon (in id order), then check it is still usable and under its limits.
        IF v_reason IS NULL THEN
            FOR v_u IN SELECT value FROM jsonb_array_elements(COALESCE(v_w->'uses', '[]')) ORDER BY value->>'couponId' LOOP
                SELECT x."id", x."active", x."startsAt", x."expiresAt", x."maxRedemptions", x."maxRedemptionsPerCustomer", x."timesRedeemed"
                    INTO v_c FROM "Coupon" x WHERE x."id" = v_u->>'couponId' FOR UPDATE;
                IF NOT FOUND OR NOT v_c."active"
                   OR (v_c."startsAt" IS NOT NULL AND (v_w->>'at')::timestamptz < v_c."startsAt")
                   OR (v_c."expiresAt" IS NOT NULL AND (v_w->>'at')::timestamptz >= v_c."expiresAt")
                   OR (v_c."maxRedemptions" IS NOT NULL AND v_c."timesRedeemed" >= v_c."maxRedemptions") THEN
                    v_reason := 'coupon';
                    v_detail := v_u->>'couponId';
                    EXIT;
                END IF;
                IF v_c."maxRedemptionsPerCustomer" IS NOT NULL THEN
                    SELECT count(*) INTO v_uses FROM "CouponRedemption" r
                        WHERE r."couponId" = v_c."id" AND r."customerKey" IS NOT DISTINCT FROM (v_u->>'customerKey');
                    IF (v_u->>'customerKey') IS NULL OR v_uses >= v_c."maxRedemptionsPerCustomer" THEN
                        v_reason := 'coupon';
                        v_detail := v_u->>'couponId';
                        EXIT;
                    END IF;
                END IF;
            END LOOP;
        END IF;

        -- The idempotency key last: a write refused above has not claimed it.
        IF v_reason IS NULL AND jsonb_typeof(v_w->'claim') = 'object' THEN
            INSERT INTO "IdempotencyKey" ("merchantId", "livemode", "key", "operation", "requestHash", "response", "createdAt", "expiresAt")
            VALUES (v_w->>'m', (v_w->>'l')::boolean, v_w->'claim'->>'key', v_w->'claim'->>'operation', v_w->'claim'->>'requestHash',
                    COALESCE(v_w->'claim'->'response', 'null'::jsonb), (v_w->'claim'->>'createdAt')::timestamptz, (v_w->'claim'->>'expiresAt')::timestamptz)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                v_reason := 'key';
            END IF;
        END IF;

        IF v_reason IS NOT NULL THEN
            v_failed := v_failed || v_i;
            v_reasons[v_i] := jsonb_build_object('ok', false, 'reason', v_reason, 'detail', v_detail);
            CONTINUE;
        END IF;

        -- Passed: what depends on the order of writes happens now, so the next write sees it.
        FOR v_u IN SELECT value FROM jsonb_array_elements(COALESCE(v_w->'uses', '[]')) ORDER BY value->>'couponId' LOOP
            INSERT INTO "CouponRedemption" ("couponId", "orderId", "merchantId", "livemode", "customerKey", "createdAt")
            VALUES (v_u->>'couponId', v_u->>'orderId', v_w->>'m', (v_w->>'l')::boolean, v_u->>'customerKey', (v_w->>'at')::timestamptz);
            UPDATE "Coupon" SET "timesRedeemed" = "timesRedeemed" + 1 WHERE "id" = v_u->>'couponId';
        END LOOP;
        FOR v_e IN SELECT value FROM jsonb_array_elements(COALESCE(v_w->'releases', '[]')) LOOP
            FOR v_released IN
                SELECT x."id" FROM "Coupon" x WHERE x."id" IN (SELECT r."couponId" FROM "CouponRedemption" r WHERE r."orderId" = v_e #>> '{}') ORDER BY x."id" FOR UPDATE
            LOOP
                DELETE FROM "CouponRedemption" r WHERE r."orderId" = v_e #>> '{}' AND r."couponId" = v_released."id";
                IF FOUND THEN
                    UPDATE "Coupon" SET "timesRedeemed" = "timesRedeemed" - 1 WHERE "id" = v_released."id";
                END IF;
            END LOOP;
        END LOOP;
        IF jsonb_typeof(v_w->'finish') = 'object' THEN
            UPDATE "IdempotencyKey" SET "response" = v_w->'finish'->'response'
            WHERE "merchantId" = v_w->>'m' AND "livemode" = (v_w->>'l')::boolean AND "key" = v_w->'finish'->>'key';
        END IF;
    END LOOP;

    -- 2. The rows of the writes that passed, one statement per group.
    FOR v_grp IN SELECT value FROM jsonb_array_elements(COALESCE(batch->'apply', '[]')) LOOP
        SELECT COALESCE(jsonb_agg(r.value), '[]') INTO v_rows FROM jsonb_array_elements(v_grp->'rows') AS r(value)
            WHERE NOT ((r.value->>'_w')::integer = ANY (v_failed));
        CONTINUE WHEN jsonb_array_length(v_rows) = 0;
        SELECT string_agg(format('x.%1$I = r.%1$I', k.value), ' AND ') INTO v_key_match FROM jsonb_array_elements_text(v_grp->'keys') AS k(value);
        IF v_grp->>'k' = 'insert' THEN
            SELECT string_agg(format('%I', k.value), ', ') INTO v_col_list FROM jsonb_array_elements_text(v_grp->'cols') AS k(value);
            EXECUTE format('INSERT INTO %1$I (%2$s) SELECT %2$s FROM jsonb_populate_recordset(NULL::%1$I, $1)', v_grp->>'t', v_col_list) USING v_rows;
        ELSIF v_grp->>'k' = 'update' THEN
            SELECT string_agg(format('%1$I = r.%1$I', k.value), ', ') INTO v_set_list FROM jsonb_array_elements_text(v_grp->'cols') AS k(value);
            EXECUTE format('UPDATE %1$I x SET %2$s FROM jsonb_populate_recordset(NULL::%1$I, $1) r WHERE %3$s', v_grp->>'t', v_set_list, v_key_match) USING v_rows;
        ELSIF v_grp->>'k' = 'delete' THEN
            EXECUTE format('DELETE FROM %1$I x USING jsonb_populate_recordset(NULL::%1$I, $1) r WHERE %2$s', v_grp->>'t', v_key_match) USING v_rows;
        ELSE
            RAISE EXCEPTION 'flint_write: unknown kind %', v_grp->>'k';
        END IF;
    END LOOP;

    -- 3. The audit chains: heads locked last and in merchant order, entries numbered and hashed.
    INSERT INTO "AuditChainHead" ("merchantId", "livemode", "sequence", "hash")
    SELECT DISTINCT x.value->>'m', (x.value->>'l')::boolean, 0, NULL
    FROM jsonb_array_elements(batch->'writes') WITH ORDINALITY AS x(value, idx)
    WHERE NOT (x.idx::integer = ANY (v_failed)) AND jsonb_array_length(COALESCE(x.value->'entries', '[]')) > 0
    ON CONFLICT DO NOTHING;

    FOR v_head IN
        SELECT h."merchantId", h."livemode", h."sequence", h."hash" FROM "AuditChainHead" h
        WHERE (h."merchantId", h."livemode") IN (
            SELECT x.value->>'m', (x.value->>'l')::boolean FROM jsonb_array_elements(batch->'writes') WITH ORDINALITY AS x(value, idx)
            WHERE NOT (x.idx::integer = ANY (v_failed)) AND jsonb_array_length(COALESCE(x.value->'entries', '[]')) > 0)
        ORDER BY h."merchantId", h."livemode"
        FOR UPDATE
    LOOP
        v_seq := v_head."sequence";
        v_prev := v_head."hash";
        v_i := 0;
        FOR v_w IN SELECT value FROM jsonb_array_elements(batch->'writes') LOOP
            v_i := v_i + 1;
            CONTINUE WHEN v_i = ANY (v_failed) OR v_w->>'m' <> v_head."merchantId" OR (v_w->>'l')::boolean <> v_head."livemode";
            v_chained := '[]';
            FOR v_e IN SELECT value FROM jsonb_array_elements(COALESCE(v_w->'entries', '[]')) LOOP
                v_seq := v_seq + 1;
                v_hash := encode(sha256(convert_to(COALESCE(v_prev, '') || (v_e->>'before') || v_seq::text || (v_e->>'after'), 'UTF8')), 'hex');
                v_activity := v_activity || jsonb_build_array((v_e->'row') || jsonb_build_object('sequence', v_seq, 'hash', v_hash, 'previousHash', v_prev));
                v_chained := v_chained || jsonb_build_array(jsonb_build_object('sequence', v_seq::text, 'hash', v_hash, 'previousHash', v_prev));
                v_prev := v_hash;
            END LOOP;
            v_per_write[v_i] := v_chained;
        END LOOP;
        UPDATE "AuditChainHead" SET "sequence" = v_seq, "hash" = v_prev
        WHERE "merchantId" = v_head."merchantId" AND "livemode" = v_head."livemode";
    END LOOP;
    -- One row at a time so that a delta that is JSON null stays JSON null (populating a record would
    -- turn it into SQL NULL), exactly as it was hashed.
    FOR v_e IN SELECT value FROM jsonb_array_elements(v_activity) LOOP
        v_entry := jsonb_populate_record(NULL::"Activity", v_e);
        v_entry."delta" := v_e->'delta';
        INSERT INTO "Activity" SELECT (v_entry).*;
    END LOOP;

    FOR v_i IN 1..v_n LOOP
        v_out := v_out || jsonb_build_array(COALESCE(v_reasons[v_i], jsonb_build_object('ok', true, 'entries', v_per_write[v_i])));
    END LOOP;
    RETURN v_out;
END;
$$;
