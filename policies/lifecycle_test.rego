# Tests for lifecycle.rego (BZ0310 discover expiry, BZ0311 deprecation,
# BZ0399 overdue review warning).
package bazaar

import rego.v1

# --- BZ0310 ---

test_lifecycle_discover_expiry_within_limit_allowed if {
	findings := deny with input as discover_input
	not has_code(findings, "BZ0310")
}

test_lifecycle_discover_expiry_at_limit_allowed if {
	findings := deny with input as object.union(discover_input, {"dates": {"days_from_last_review_to_expires": 90}})
	not has_code(findings, "BZ0310")
}

test_lifecycle_discover_expiry_too_late_denied if {
	findings := deny with input as object.union(discover_input, {
		"app": {"lifecycle": {"expires": "2027-01-01"}},
		"dates": {"days_from_last_review_to_expires": 92},
	})
	has_finding(findings, "BZ0310", "lifecycle.expires")
}

test_lifecycle_discover_expiry_missing_denied if {
	findings := deny with input as object.union(
		json.remove(discover_input, ["app/lifecycle/expires"]),
		{"dates": {"days_from_last_review_to_expires": null}},
	)
	has_finding(findings, "BZ0310", "lifecycle.expires")
}

test_lifecycle_discover_last_reviewed_missing_denied if {
	findings := deny with input as object.union(
		json.remove(discover_input, ["app/lifecycle/last_reviewed"]),
		{"dates": {"days_from_last_review_to_expires": null}},
	)
	has_code(findings, "BZ0310")
	has_finding(findings, "BZ0310", "lifecycle.last_reviewed")
}

test_lifecycle_expiry_not_needed_for_vetted if {
	findings := deny with input as with_app({"tier": "vetted"})
	not has_code(findings, "BZ0310")
}

# --- BZ0311 ---

deprecated_input := with_app({"lifecycle": {
	"status": "deprecated",
	"deprecation_reason": "Replaced by the new ledger service.",
	"replacement": "com.acme.finance.ledger",
	"retire_on": "2027-02-28",
}})

test_lifecycle_deprecation_complete_allowed if {
	findings := deny with input as deprecated_input
	not has_code(findings, "BZ0311")
}

test_lifecycle_active_needs_no_deprecation_fields if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0311")
}

test_lifecycle_deprecation_each_missing_denied if {
	findings := deny with input as json.remove(deprecated_input, [
		"app/lifecycle/deprecation_reason", "app/lifecycle/replacement", "app/lifecycle/retire_on",
	])
	fields := {f.field | some f in findings; f.code == "BZ0311"}
	fields == {"lifecycle.deprecation_reason", "lifecycle.replacement", "lifecycle.retire_on"}
}

test_lifecycle_deprecation_missing_retire_on_denied if {
	findings := deny with input as json.remove(deprecated_input, ["app/lifecycle/retire_on"])
	{f.field | some f in findings; f.code == "BZ0311"} == {"lifecycle.retire_on"}
}

# --- BZ0399 (warn) ---

test_lifecycle_review_due_in_future_no_warn if {
	findings := warn with input as base_input
	not has_code(findings, "BZ0399")
}

test_lifecycle_review_due_today_no_warn if {
	findings := warn with input as object.union(base_input, {"dates": {"days_until_review_by": 0}})
	not has_code(findings, "BZ0399")
}

test_lifecycle_review_overdue_warns_not_denies if {
	overdue := object.union(base_input, {
		"app": {"lifecycle": {"review_by": "2026-11-20"}},
		"dates": {"days_until_review_by": -5},
	})
	findings := warn with input as overdue
	has_finding(findings, "BZ0399", "lifecycle.review_by")
	count(deny) == 0 with input as overdue
}
