-- "Activity" is the audit log: it is append-only, and the database enforces it.
-- Prisma's schema language cannot describe triggers, so this migration is written by hand.
-- To correct an entry, insert a new activity that supersedes it; never rewrite history.

-- CreateFunction
CREATE FUNCTION "activity_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The "Activity" audit log is append-only: % is not allowed', TG_OP
        USING HINT = 'Insert a new activity instead of changing or removing an existing one.';
END;
$$;

-- CreateTrigger
CREATE TRIGGER "Activity_append_only"
    BEFORE UPDATE OR DELETE ON "Activity"
    FOR EACH ROW EXECUTE FUNCTION "activity_append_only"();

-- CreateTrigger
CREATE TRIGGER "Activity_no_truncate"
    BEFORE TRUNCATE ON "Activity"
    FOR EACH STATEMENT EXECUTE FUNCTION "activity_append_only"();
