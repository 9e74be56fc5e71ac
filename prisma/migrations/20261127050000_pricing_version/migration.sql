-- "Merchant"."pricingVersion" changes whenever anything that prices an order changes: the tax
-- registrations, the tax rates or the origin address. createOrder prices from a cached copy of these
-- settings and checks, in the same statement that writes the order, that the version it priced with is
-- still the current one (src/domain/chain-writer.ts); otherwise it reads them again and re-prices.
-- The triggers keep the version current for every writer, so no code path can forget to bump it.

-- AlterTable
ALTER TABLE "Merchant" ADD COLUMN "pricingVersion" INTEGER NOT NULL DEFAULT 0;

-- CreateFunction
CREATE FUNCTION "merchant_pricing_changed"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE "Merchant" SET "pricingVersion" = "pricingVersion" + 1 WHERE "id" = OLD."merchantId";
    ELSE
        UPDATE "Merchant" SET "pricingVersion" = "pricingVersion" + 1 WHERE "id" = NEW."merchantId";
        IF TG_OP = 'UPDATE' AND OLD."merchantId" IS DISTINCT FROM NEW."merchantId" THEN
            UPDATE "Merchant" SET "pricingVersion" = "pricingVersion" + 1 WHERE "id" = OLD."merchantId";
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- CreateFunction
CREATE FUNCTION "merchant_origin_changed"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW."pricingVersion" := OLD."pricingVersion" + 1;
    RETURN NEW;
END;
$$;

-- CreateTrigger
CREATE TRIGGER "TaxRegistration_pricing_changed"
    AFTER INSERT OR UPDATE OR DELETE ON "TaxRegistration"
    FOR EACH ROW EXECUTE FUNCTION "merchant_pricing_changed"();

-- CreateTrigger
CREATE TRIGGER "TaxRate_pricing_changed"
    AFTER INSERT OR UPDATE OR DELETE ON "TaxRate"
    FOR EACH ROW EXECUTE FUNCTION "merchant_pricing_changed"();

-- CreateTrigger
CREATE TRIGGER "Merchant_origin_changed"
    BEFORE UPDATE OF "originAddress" ON "Merchant"
    FOR EACH ROW WHEN (OLD."originAddress" IS DISTINCT FROM NEW."originAddress")
    EXECUTE FUNCTION "merchant_origin_changed"();
