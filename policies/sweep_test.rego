# Tests for sweep.rego: each rule the day before, on the day and after its date.
package bazaar.sweep

import rego.v1

base := {
	"app": {"tier": "discover", "owner": {"primary": "jane-doe", "backup": "tom-chen"}, "lifecycle": {"status": "active", "review_by": "2027-03-01", "expires": "2027-01-01", "retire_on": "2027-02-01"}},
	"config": {"governance": {"reminder_days": [90, 60, 30], "sbom_max_age_days": 365}},
	"dates": {"days_until_review_by": 200, "days_until_expires": 10, "days_until_retire_on": null},
	"sweep": {"overdue_warnings": [], "sbom_age_days": null, "owners_left": null},
}

with_dates(d) := object.union(base, {"dates": d})

rules(i) := {a.rule | some a in actions with input as i}

test_no_action_for_a_healthy_app if {
	count(actions) == 0 with input as base
}

test_reminder_thresholds if {
	count(actions) == 0 with input as with_dates({"days_until_review_by": 91})
	some a in actions with input as with_dates({"days_until_review_by": 90})
	a.threshold == 90
	some b in actions with input as with_dates({"days_until_review_by": 45})
	b.threshold == 60
	some c in actions with input as with_dates({"days_until_review_by": 0})
	c.threshold == 30
	count(actions) == 0 with input as with_dates({"days_until_review_by": -1})
}

test_discover_expiry if {
	not "discover-expired" in rules(with_dates({"days_until_expires": 0}))
	"discover-expired" in rules(with_dates({"days_until_expires": -1}))
	not "discover-expired" in rules(object.union(with_dates({"days_until_expires": -1}), {"app": {"tier": "vetted"}}))
}

test_deprecation_ends if {
	dep := object.union(base, {"app": {"lifecycle": {"status": "deprecated"}}})
	not "deprecation-ended" in rules(object.union(dep, {"dates": {"days_until_retire_on": 0}}))
	"deprecation-ended" in rules(object.union(dep, {"dates": {"days_until_retire_on": -1}}))
}

test_overdue_warning_stale_sbom_and_owners_left if {
	"warning-overdue" in rules(object.union(base, {"sweep": {"overdue_warnings": [{"code": "BZ0399", "deadline": "2026-11-01", "message": "review overdue"}]}}))
	not "sbom-stale" in rules(object.union(base, {"sweep": {"sbom_age_days": 365}}))
	"sbom-stale" in rules(object.union(base, {"sweep": {"sbom_age_days": 366}}))
	"owners-left" in rules(object.union(base, {"sweep": {"owners_left": true}}))
	not "owners-left" in rules(object.union(base, {"sweep": {"owners_left": null}}))
}

test_attestation_lapses_the_day_after if {
	not "attestation-lapsed" in rules(with_dates({"days_until_attested_until": 1}))
	not "attestation-lapsed" in rules(with_dates({"days_until_attested_until": 0}))
	"attestation-lapsed" in rules(with_dates({"days_until_attested_until": -1}))
	not "attestation-lapsed" in rules(with_dates({"days_until_attested_until": null}))
	retired := object.union(base, {"app": {"lifecycle": {"status": "retired"}}})
	not "attestation-lapsed" in rules(object.union(retired, {"dates": {"days_until_attested_until": -1}}))
}
