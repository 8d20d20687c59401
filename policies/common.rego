# Shared helpers for the default Bazaar policies (package bazaar).
#
# Every policy file in this folder is part of the same package, so these helpers
# are visible to all of them. They only read `input`; none of them produces a
# finding on its own.
package bazaar

import rego.v1

# Tiers that ship to many users and therefore carry supply-chain evidence.
reviewed_tiers := {"vetted", "enterprise"}

# Data classes that hold personal or health data.
sensitive_classes := {"pii", "phi"}

# section(name) is the manifest table `name` (e.g. "support"), or {} when the
# table is absent, so rules can look keys up without guarding every access.
section(name) := s if {
	s := object.get(input.app, name, {})
	is_object(s)
} else := {}

# has_text(obj, key) holds when obj[key] is a string that is not blank.
has_text(obj, key) if {
	v := object.get(obj, key, "")
	is_string(v)
	trim_space(v) != ""
}

# filled(obj, key) holds when obj[key] is a non-blank string or a number
# (cost.monthly_usd is a number, the other fields are strings).
filled(obj, key) if has_text(obj, key)

filled(obj, key) if is_number(object.get(obj, key, null))

# The app's team, or {} when Bazaar could not load the team file (Bazaar
# reports that itself; team-dependent rules then stay silent).
team := t if {
	is_object(input.team)
	t := input.team
} else := {}

# Governance settings from bazaar.toml.
governance := object.get(object.get(input, "config", {}), "governance", {})

# finding(code, field, msg) builds a deny/warn element in the shape Bazaar
# reads: {"msg", "field", "code"}.
finding(code, field, msg) := {"msg": msg, "field": field, "code": code}

# as_list(x) is x when it is an array, else []. Use it before iterating over
# user-supplied JSON (SBOM documents): iterating over a string or number is a
# run-time error in regorus, and an erroring policy blocks every submission.
as_list(x) := x if {
	is_array(x)
} else := []
