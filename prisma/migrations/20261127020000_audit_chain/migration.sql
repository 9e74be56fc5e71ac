-- Tamper-evident audit trail (src/audit/chain.ts): every "Activity" row joins a hash chain, one chain
-- per merchant and mode. hash = sha256(previousHash + canonical JSON of the entry); "AuditChainHead"
-- holds each chain's last sequence and hash and is locked by every append, so the chain cannot fork.
-- The append-only trigger of 20261127000100_activity_append_only stays in force.

-- AlterTable
ALTER TABLE "Activity" ADD COLUMN     "hash" TEXT,
ADD COLUMN     "previousHash" TEXT,
ADD COLUMN     "sequence" BIGINT;

-- CreateTable
CREATE TABLE "AuditChainHead" (
    "merchantId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "sequence" BIGINT NOT NULL DEFAULT 0,
    "hash" TEXT,

    CONSTRAINT "AuditChainHead_pkey" PRIMARY KEY ("merchantId","livemode")
);

-- Backfill (hand-written): chain the entries recorded before this migration, oldest first (ids are
-- time-sortable ULIDs), exactly as src/audit/chain.ts chains new ones. "audit_canonical_json" writes
-- the canonical JSON of src/kernel/json.ts (keys sorted, no whitespace) for the values Flint stores:
-- strings, integers, booleans, null, arrays and objects with ASCII keys. It is dropped afterwards:
-- the application is the one implementation of the hash from then on.
CREATE FUNCTION "audit_canonical_json"(value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result text;
BEGIN
    CASE jsonb_typeof(value)
    WHEN 'object' THEN
        SELECT '{' || coalesce(string_agg(to_jsonb(e.key)::text || ':' || "audit_canonical_json"(e.value), ',' ORDER BY e.key COLLATE "C"), '') || '}'
        INTO result FROM jsonb_each(value) AS e;
    WHEN 'array' THEN
        SELECT '[' || coalesce(string_agg("audit_canonical_json"(a.value), ',' ORDER BY a.position), '') || ']'
        INTO result FROM jsonb_array_elements(value) WITH ORDINALITY AS a(value, position);
    ELSE
        result := value::text;
    END CASE;
    RETURN result;
END;
$$;

ALTER TABLE "Activity" DISABLE TRIGGER "Activity_append_only";

DO $$
DECLARE
    r record;
    chain_merchant text := NULL;
    chain_livemode boolean := NULL;
    seq bigint := 0;
    prev text := NULL;
    h text;
BEGIN
    FOR r IN SELECT * FROM "Activity" ORDER BY "merchantId" COLLATE "C", "livemode", "id" COLLATE "C" LOOP
        IF chain_merchant IS DISTINCT FROM r."merchantId" OR chain_livemode IS DISTINCT FROM r."livemode" THEN
            IF chain_merchant IS NOT NULL THEN
                INSERT INTO "AuditChainHead" ("merchantId", "livemode", "sequence", "hash") VALUES (chain_merchant, chain_livemode, seq, prev);
            END IF;
            chain_merchant := r."merchantId";
            chain_livemode := r."livemode";
            seq := 0;
            prev := NULL;
        END IF;
        seq := seq + 1;
        h := encode(sha256(convert_to(coalesce(prev, '') || "audit_canonical_json"(jsonb_build_object(
            'actorId', r."actorId",
            'actorName', r."actorName",
            'actorType', r."actorType",
            'delta', r."delta",
            'id', r."id",
            'idempotencyKey', r."idempotencyKey",
            'livemode', r."livemode",
            'merchantId', r."merchantId",
            'occurredAt', to_char(r."occurredAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'orderId', r."orderId",
            'sequence', seq,
            'type', r."type"
        )), 'UTF8')), 'hex');
        UPDATE "Activity" SET "sequence" = seq, "previousHash" = prev, "hash" = h WHERE "id" = r."id";
        prev := h;
    END LOOP;
    IF chain_merchant IS NOT NULL THEN
        INSERT INTO "AuditChainHead" ("merchantId", "livemode", "sequence", "hash") VALUES (chain_merchant, chain_livemode, seq, prev);
    END IF;
END;
$$;

ALTER TABLE "Activity" ENABLE TRIGGER "Activity_append_only";

DROP FUNCTION "audit_canonical_json"(jsonb);

-- AlterTable
ALTER TABLE "Activity" ALTER COLUMN "hash" SET NOT NULL,
ALTER COLUMN "sequence" SET NOT NULL;

-- CreateIndex
CREATE INDEX "Activity_merchantId_livemode_type_sequence_idx" ON "Activity"("merchantId", "livemode", "type", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "Activity_merchantId_livemode_sequence_key" ON "Activity"("merchantId", "livemode", "sequence");

-- AddForeignKey
ALTER TABLE "AuditChainHead" ADD CONSTRAINT "AuditChainHead_merchantId_fkey" FOREIGN KEY ("merchantId") REFERENCES "Merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
