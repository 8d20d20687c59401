# The lifecycle sweep: what `bazaar sweep` (and the daemon's daily schedule) does to each app on
# a given day. `actions` holds reminders to send and state changes to make, each with the rule
# that decided it and its evidence. Thresholds come from bazaar.toml [governance]; what Bazaar
# computed for the day is in `input.dates` and `input.sweep`.
package bazaar.sweep

import rego.v1

governance := object.get(object.get(input, "config", {}), "governance", {})

days(name) := object.get(object.get(input, "dates", {}), name, null)

status := input.app.lifecycle.status

# Reminders to the owner and backup owner before the review date: the nearest threshold of
# governance.reminder_days (90, 60, 30 by default) that the date has come within.
actions contains a if {
	status != "retired"
	left := days("days_until_review_by")
	is_number(left)
	left >= 0
	due := [t | some t in object.get(governance, "reminder_days", [90, 60, 30]); left <= t]
	count(due) > 0
	a := {
		"kind": "remind",
		"rule": "review-reminder",
		"threshold": min(due),
		"date": input.app.lifecycle.review_by,
		"evidence": sprintf("review due on %v, in %v days", [input.app.lifecycle.review_by, left]),
	}
}

# An experiment past its expiry is retired unless it was renewed (a renewal is an ordinary
# submission that moves lifecycle.expires).
actions contains a if {
	input.app.tier == "discover"
	status in {"active", "maintenance-required"}
	left := days("days_until_expires")
	is_number(left)
	left < 0
	a := {
		"kind": "transition",
		"to": "retired",
		"rule": "discover-expired",
		"evidence": sprintf("discover app expired on %v", [input.app.lifecycle.expires]),
	}
}

# A deprecated app is retired once its announced retirement date has passed.
actions contains a if {
	status == "deprecated"
	left := days("days_until_retire_on")
	is_number(left)
	left < 0
	a := {
		"kind": "transition",
		"to": "retired",
		"rule": "deprecation-ended",
		"evidence": sprintf("deprecated, retirement was due on %v", [input.app.lifecycle.retire_on]),
	}
}

# A warning left unfixed past its remediation deadline.
actions contains a if {
	status == "active"
	some w in object.get(object.get(input, "sweep", {}), "overdue_warnings", [])
	a := {
		"kind": "transition",
		"to": "maintenance-required",
		"rule": "warning-overdue",
		"evidence": sprintf("%v was due to be fixed by %v: %v", [w.code, w.deadline, w.message]),
	}
}

# An SBOM older than governance.sbom_max_age_days (by its metadata.timestamp).
actions contains a if {
	status == "active"
	age := object.get(object.get(input, "sweep", {}), "sbom_age_days", null)
	is_number(age)
	age > object.get(governance, "sbom_max_age_days", 365)
	a := {
		"kind": "transition",
		"to": "maintenance-required",
		"rule": "sbom-stale",
		"evidence": sprintf("the SBOM is %v days old (at most %v)", [age, object.get(governance, "sbom_max_age_days", 365)]),
	}
}

# Both owners left (no longer members of the organization or the app's team on the forge; only
# judged where the caller knew the membership: the daemon asks the forge, `bazaar sweep` reads
# --members, and a failed lookup judges nobody).
actions contains a if {
	status == "active"
	object.get(object.get(input, "sweep", {}), "owners_left", false) == true
	a := {
		"kind": "transition",
		"to": "maintenance-required",
		"rule": "owners-left",
		"evidence": sprintf("%v and %v are no longer members", [input.app.owner.primary, object.get(input.app.owner, "backup", "no backup")]),
	}
}

# The owners' attestation (lifecycle.attested_until) has lapsed: the app is due for review. The
# attestation holds through its last day.
actions contains a if {
	status != "retired"
	left := days("days_until_attested_until")
	is_number(left)
	left < 0
	a := {
		"kind": "remind",
		"rule": "attestation-lapsed",
		"date": object.get(input.app.lifecycle, "attested_until", null),
		"evidence": sprintf("the owners attested the manifest until %v; it is due for review", [object.get(input.app.lifecycle, "attested_until", "a past day")]),
	}
}
