-- The sandbox processor's refund, decided in one call (src/payments/sandbox.ts createRefund): the
-- charge row is locked, then the refunds already made of it are summed with a fresh snapshot (so a
-- refund committed while we waited for the lock is counted), and the refund is recorded unless it
-- would exceed the charge. Idempotent on the request's key, like Stripe's refunds.
-- Returns the refund row as JSON, or {"failure": reason} when nothing was recorded.

-- CreateFunction
CREATE FUNCTION "sandbox_create_refund"(p_id text, p_key text, p_charge text, p_amount bigint, p_metadata jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_existing jsonb;
    v_charge record;
    v_refunded bigint;
    v_row jsonb;
BEGIN
    SELECT to_jsonb(r) INTO v_existing FROM "SandboxRefund" r WHERE r."idempotencyKey" = p_key;
    IF v_existing IS NOT NULL THEN
        RETURN v_existing;
    END IF;
    SELECT c."id", c."amount", c."status", c."token" INTO v_charge FROM "SandboxCharge" c WHERE c."id" = p_charge FOR UPDATE;
    -- A concurrent request with the same key may have recorded it while we waited.
    SELECT to_jsonb(r) INTO v_existing FROM "SandboxRefund" r WHERE r."idempotencyKey" = p_key;
    IF v_existing IS NOT NULL THEN
        RETURN v_existing;
    END IF;
    IF v_charge."id" IS NULL OR v_charge."status" <> 'SUCCEEDED' THEN
        RETURN jsonb_build_object('failure', 'charge_not_refundable');
    END IF;
    SELECT COALESCE(sum(r."amount"), 0) INTO v_refunded FROM "SandboxRefund" r WHERE r."chargeId" = v_charge."id" AND r."status" <> 'FAILED';
    IF p_amount <= 0 OR v_refunded + p_amount > v_charge."amount" THEN
        RETURN jsonb_build_object('failure', 'amount_too_large');
    END IF;
    INSERT INTO "SandboxRefund" ("id", "idempotencyKey", "chargeId", "amount", "status", "metadata")
    VALUES (p_id, p_key, v_charge."id", p_amount, CASE WHEN v_charge."token" = 'tok_refundFail' THEN 'PENDING' ELSE 'SUCCEEDED' END, p_metadata)
    RETURNING to_jsonb("SandboxRefund".*) INTO v_row;
    RETURN v_row;
END;
$$;
