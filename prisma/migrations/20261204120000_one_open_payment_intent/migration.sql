-- An order never has two open payment intents (PROCESSING or REQUIRES_ACTION): payOrder settles an
-- open intent before it charges again, and this trigger is the database's backstop for that rule.
-- A partial unique index would say the same, but Prisma's schema language cannot express one without a
-- preview feature (and the drift test compares indexes with schema.prisma); triggers are outside the
-- Prisma schema by design.
--
-- The order row is locked first, so two transactions opening intents of one order are judged one after
-- the other (READ COMMITTED: the check below runs after the lock is granted and sees the other's row).
-- A violation is reported as a unique_violation (23505): the writer (src/kernel/writer.ts) turns it into
-- a refused write, and the use case plans again and finds the open intent.

-- CreateFunction
CREATE FUNCTION "flint_one_open_payment_intent"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM "Order" o WHERE o."id" = NEW."orderId" FOR UPDATE;
    IF EXISTS (
        SELECT 1 FROM "PaymentIntent" p
        WHERE p."orderId" = NEW."orderId" AND p."id" <> NEW."id" AND p."status" IN ('PROCESSING', 'REQUIRES_ACTION')
    ) THEN
        RAISE EXCEPTION 'order % already has an open payment intent', NEW."orderId"
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'PaymentIntent_one_open_per_order';
    END IF;
    RETURN NEW;
END;
$$;

-- CreateTrigger
CREATE TRIGGER "PaymentIntent_one_open_per_order"
    BEFORE INSERT OR UPDATE OF "status", "orderId" ON "PaymentIntent"
    FOR EACH ROW
    WHEN (NEW."status" IN ('PROCESSING', 'REQUIRES_ACTION'))
    EXECUTE FUNCTION "flint_one_open_payment_intent"();
