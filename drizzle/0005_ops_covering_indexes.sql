-- The ops overview counts attempts and callback outcomes by time; covering indexes answer those
-- counts from the index alone (drizzle's schema cannot express INCLUDE, hence a custom migration).
DROP INDEX IF EXISTS "attempts_started_idx";--> statement-breakpoint
CREATE INDEX "attempts_started_idx" ON "attempts" USING btree ("started_at") INCLUDE ("caller_number", "result");--> statement-breakpoint
DROP INDEX IF EXISTS "callbacks_updated_idx";--> statement-breakpoint
CREATE INDEX "callbacks_updated_idx" ON "callbacks" USING btree ("updated_at") INCLUDE ("status", "outcome");
