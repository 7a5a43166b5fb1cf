CREATE TYPE "public"."role" AS ENUM('agent', 'ops', 'admin');--> statement-breakpoint
CREATE TYPE "public"."consent" AS ENUM('none', 'required');--> statement-breakpoint
CREATE TYPE "public"."callback_status" AS ENUM('awaiting_consent', 'scheduled', 'ready', 'claimed', 'in_call', 'completed', 'cancelled', 'declined', 'suppressed', 'unreachable', 'exempted', 'expired');--> statement-breakpoint
CREATE TYPE "public"."exemption_status" AS ENUM('pending', 'approved', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."opt_out_scope" AS ENUM('all', 'voice', 'sms');--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"skills" text[] DEFAULT '{}'::text[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"role" "role" NOT NULL,
	"agent_id" text,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"category" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"max_rounds" integer,
	"required_skill" text,
	"customer_tiers" text[],
	"customer_tiers_set" boolean DEFAULT false NOT NULL,
	"consent" "consent",
	"deadline_hours" integer,
	"max_attempts" integer,
	"retry_delays_minutes" integer[],
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"callback_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"agent_id" text,
	"phone_e164" text NOT NULL,
	"caller_number" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"result" text,
	"outcome" text,
	"notes" text
);
--> statement-breakpoint
CREATE TABLE "callback_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"callback_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"from_status" "callback_status",
	"to_status" "callback_status" NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "callbacks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" "callback_status" NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"case_ref" text NOT NULL,
	"category" text NOT NULL,
	"round" smallint NOT NULL,
	"phone_e164" text NOT NULL,
	"phone_country" text,
	"phone_type" text NOT NULL,
	"timezones" text[] NOT NULL,
	"timezone_source" text NOT NULL,
	"customer_tier" text,
	"customer_language" text,
	"reason" text NOT NULL,
	"first_explanation" jsonb NOT NULL,
	"preferred_windows" jsonb,
	"not_before" timestamp with time zone NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"priority" smallint DEFAULT 5 NOT NULL,
	"scheduled_for" timestamp with time zone,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"outcome" text,
	"required_skill" text NOT NULL,
	"created_by" text NOT NULL,
	"claimed_by" text,
	"lease_expires_at" timestamp with time zone,
	"sla_at_risk_at" timestamp with time zone,
	"sla_breached_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "exemptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"callback_id" uuid NOT NULL,
	"case_ref" text NOT NULL,
	"status" "exemption_status" DEFAULT 'pending' NOT NULL,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opt_outs" (
	"phone_e164" text PRIMARY KEY NOT NULL,
	"scope" "opt_out_scope" NOT NULL,
	"source" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_callback_id_callbacks_id_fk" FOREIGN KEY ("callback_id") REFERENCES "public"."callbacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_callback_id_callbacks_id_fk" FOREIGN KEY ("callback_id") REFERENCES "public"."callbacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "callbacks" ADD CONSTRAINT "callbacks_claimed_by_agents_id_fk" FOREIGN KEY ("claimed_by") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exemptions" ADD CONSTRAINT "exemptions_callback_id_callbacks_id_fk" FOREIGN KEY ("callback_id") REFERENCES "public"."callbacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_agent_idx" ON "api_keys" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_callback_number_uq" ON "attempts" USING btree ("callback_id","number");--> statement-breakpoint
CREATE INDEX "attempts_phone_started_idx" ON "attempts" USING btree ("phone_e164","started_at");--> statement-breakpoint
CREATE INDEX "callback_events_callback_idx" ON "callback_events" USING btree ("callback_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "callbacks_active_case_uq" ON "callbacks" USING btree ("case_ref") WHERE "callbacks"."status" in ('awaiting_consent', 'scheduled', 'ready', 'claimed', 'in_call');--> statement-breakpoint
CREATE INDEX "callbacks_status_due_idx" ON "callbacks" USING btree ("status","scheduled_for");--> statement-breakpoint
CREATE INDEX "callbacks_phone_idx" ON "callbacks" USING btree ("phone_e164");--> statement-breakpoint
CREATE INDEX "callbacks_created_idx" ON "callbacks" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "callbacks_case_idx" ON "callbacks" USING btree ("case_ref");--> statement-breakpoint
CREATE INDEX "exemptions_case_idx" ON "exemptions" USING btree ("case_ref","status");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("id") WHERE "outbox"."delivered_at" is null;