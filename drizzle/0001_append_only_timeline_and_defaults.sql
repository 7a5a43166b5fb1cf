-- The callback timeline is an audit trail: rows are only ever added.
CREATE FUNCTION callback_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'callback_events is append-only';
END;
$$;--> statement-breakpoint
CREATE TRIGGER callback_events_no_update_delete
  BEFORE UPDATE OR DELETE ON callback_events
  FOR EACH ROW EXECUTE FUNCTION callback_events_append_only();--> statement-breakpoint
-- The `default` policy supplies the fields other categories omit (SPEC §4); it never enables a category.
INSERT INTO policies (category, enabled, max_rounds, required_skill, customer_tiers, customer_tiers_set, consent, deadline_hours, max_attempts, retry_delays_minutes)
VALUES ('default', false, 2, 'second_explanation', NULL, true, 'none', 48, 3, '{30,120,1440}');
