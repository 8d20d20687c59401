# Risk and required reviewers: how much could go wrong if the app misbehaves,
# and who therefore has to approve it.
package bazaar

import rego.v1

# Data classes from least to most sensitive.
class_rank := {"public": 0, "internal": 1, "confidential": 2, "pii": 3, "phi": 4}

# Roles that must approve, by risk. Every name is a role in reviewers.toml.
roles_by_risk := {
	"low": set(),
	"medium": {"security", "product-owner"},
	"high": {"security", "product-owner", "legal", "compliance"},
}

# scopes_of(app) is the set of the app's OAuth scopes.
scopes_of(app) := {s | some s in object.get(object.get(app, "auth", {}), "scopes", [])}

# write_scopes_of(app) is the set of the app's write (":write") scopes.
write_scopes_of(app) := {s | some s in scopes_of(app); is_string(s); endswith(s, ":write")}

# High: personal or health data, or data leaving the company.
high_risk if input.app.data.classification in sensitive_classes

high_risk if input.app.data.external_transfer == true

# Medium: the app can change things (a write scope), talks to a third party,
# or handles confidential data.
medium_risk if count(write_scopes_of(input.app)) > 0

medium_risk if {
	some api in object.get(input.app, "apis", [])
	api.third_party == true
}

medium_risk if input.app.data.classification == "confidential"

# Medium, judged from the change: compared with the base revision the change
# raises the data class or adds a write scope, even if the result alone would
# be low (e.g. internal -> confidential, or a new "docs:write").
medium_risk if {
	is_object(input.base)
	class_rank[input.app.data.classification] > class_rank[input.base.data.classification]
}

medium_risk if {
	is_object(input.base)
	count(write_scopes_of(input.app) - write_scopes_of(input.base)) > 0
}

# The app's risk: exactly one of "high", "medium", "low".
risk := "high" if {
	high_risk
} else := "medium" if {
	medium_risk
} else := "low"

# The reviewer roles that must approve, derived from risk. A partial set, so a
# custom policy file may add roles (e.g. "admin") for its own reasons.
required_roles contains role if {
	some role in roles_by_risk[risk]
}
