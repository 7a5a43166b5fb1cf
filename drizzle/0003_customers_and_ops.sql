CREATE TABLE "consent_offers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"callback_id" uuid NOT NULL,
	"phone_e164" text NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"answer" text,
	"answered_via" text,
	"chosen_slot" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consent_offers_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "opt_out_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone_e164" text NOT NULL,
	"scope" "opt_out_scope" DEFAULT 'all' NOT NULL,
	"code_hash" text NOT NULL,
	"failed_checks" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"confirmed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scam_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"caller_number" text NOT NULL,
	"caller_e164" text,
	"reporter_e164" text,
	"description" text NOT NULL,
	"caller_is_official" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sms_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"direction" text NOT NULL,
	"to_e164" text NOT NULL,
	"from_e164" text,
	"body" text NOT NULL,
	"purpose" text NOT NULL,
	"status" text NOT NULL,
	"provider" text NOT NULL,
	"provider_id" text,
	"error" text,
	"callback_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_states" (
	"key" text PRIMARY KEY NOT NULL,
	"firing" boolean NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "consent_offers" ADD CONSTRAINT "consent_offers_callback_id_callbacks_id_fk" FOREIGN KEY ("callback_id") REFERENCES "public"."callbacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_callback_id_callbacks_id_fk" FOREIGN KEY ("callback_id") REFERENCES "public"."callbacks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "consent_offers_callback_uq" ON "consent_offers" USING btree ("callback_id");--> statement-breakpoint
CREATE INDEX "consent_offers_open_idx" ON "consent_offers" USING btree ("phone_e164") WHERE "consent_offers"."answered_at" is null;--> statement-breakpoint
CREATE INDEX "opt_out_requests_phone_idx" ON "opt_out_requests" USING btree ("phone_e164","created_at");--> statement-breakpoint
CREATE INDEX "scam_reports_created_idx" ON "scam_reports" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sms_messages_to_idx" ON "sms_messages" USING btree ("to_e164","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_messages_provider_id_uq" ON "sms_messages" USING btree ("provider","provider_id");--> statement-breakpoint
CREATE INDEX "attempts_started_idx" ON "attempts" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "callbacks_updated_idx" ON "callbacks" USING btree ("updated_at");