# Lifecycle: experiments expire, deprecations are announced properly, and
# reviews happen on time.
package bazaar

import rego.v1

# Day counts Bazaar computed from the manifest dates (null when a date is absent).
days(name) := object.get(object.get(input, "dates", {}), name, null)

# BZ0310: discover (experimental) apps need an expiry date, so unowned
# experiments do not linger in the catalog.
deny contains f if {
	input.app.tier == "discover"
	not has_text(section("lifecycle"), "expires")
	f := finding("BZ0310", "lifecycle.expires", sprintf(
		"discover apps expire: set lifecycle.expires to at most %v days after lifecycle.last_reviewed, or promote the app to vetted",
		[governance.discover_max_days],
	))
}

# BZ0310: the expiry is measured from the last review, so that date is needed too.
deny contains f if {
	input.app.tier == "discover"
	not has_text(section("lifecycle"), "last_reviewed")
	f := finding("BZ0310", "lifecycle.last_reviewed", sprintf(
		"discover apps need lifecycle.last_reviewed, the date their expiry (at most %v days later) is counted from",
		[governance.discover_max_days],
	))
}

# BZ0310: a discover app may live at most governance.discover_max_days after
# its last review before it must be renewed (re-reviewed) or promoted.
deny contains f if {
	input.app.tier == "discover"
	span := days("days_from_last_review_to_expires")
	is_number(span)
	span > governance.discover_max_days
	f := finding("BZ0310", "lifecycle.expires", sprintf(
		"lifecycle.expires (%v) is %v days after lifecycle.last_reviewed (%v); discover apps may run at most %v days: move expires earlier, or promote the app to vetted",
		[input.app.lifecycle.expires, span, input.app.lifecycle.last_reviewed, governance.discover_max_days],
	))
}

# BZ0311: a deprecated app tells its users why, what to use instead and when
# it goes away: one finding per missing field.
deprecation_requirements := {
	"deprecation_reason": "why the app is deprecated",
	"replacement": "the id of the app users should move to",
	"retire_on": "the date the app will be retired",
}

deny contains f if {
	input.app.lifecycle.status == "deprecated"
	some key, what in deprecation_requirements
	not has_text(section("lifecycle"), key)
	f := finding("BZ0311", sprintf("lifecycle.%s", [key]), sprintf(
		"deprecated apps need lifecycle.%s: set it to %s",
		[key, what],
	))
}

# BZ0399 (warn): the review date has passed. The app still passes, but must be
# re-reviewed before the deadline Bazaar attaches to the warning.
warn contains f if {
	overdue := days("days_until_review_by")
	is_number(overdue)
	overdue < 0
	msg := sprintf(
		"the review due on %v is %v day(s) overdue: review the app, then set lifecycle.last_reviewed to the review date and lifecycle.review_by to the next one",
		[input.app.lifecycle.review_by, 0 - overdue],
	)

	# the grace period runs from the missed review date, not from today
	f := object.union(finding("BZ0399", "lifecycle.review_by", msg), {"since": input.app.lifecycle.review_by})
}
