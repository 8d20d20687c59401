# Tests for risk.rego (risk class and required reviewer roles).
package bazaar

import rego.v1

# A low-risk app: internal data, read-only scopes, no third party, no transfer.
low_input := base_input

medium_roles := {"security", "product-owner"}

high_roles := {"security", "product-owner", "legal", "compliance"}

# --- low ---

test_risk_low if {
	risk == "low" with input as low_input
	count(required_roles) == 0 with input as low_input
}

test_risk_public_is_low if {
	risk == "low" with input as with_app({"data": {"classification": "public"}})
}

test_risk_write_api_without_write_scope_is_low if {
	# Only OAuth scopes count as writes, not apis[].access.
	risk == "low" with input as with_app({"apis": [{"name": "ERP", "access": "write", "third_party": false}]})
}

# --- medium ---

test_risk_write_scope_is_medium if {
	inp := with_app({"auth": {"scopes": ["profile", "finance:write"]}})
	risk == "medium" with input as inp
	required_roles == medium_roles with input as inp
}

test_risk_third_party_api_is_medium if {
	inp := with_app({"apis": [{"name": "Vendor API", "access": "read", "third_party": true}]})
	risk == "medium" with input as inp
	required_roles == medium_roles with input as inp
}

test_risk_confidential_is_medium if {
	inp := with_app({"data": {"classification": "confidential"}})
	risk == "medium" with input as inp
	required_roles == medium_roles with input as inp
}

# --- high ---

test_risk_pii_is_high if {
	inp := with_app({"data": {"classification": "pii", "justification": "Names."}})
	risk == "high" with input as inp
	required_roles == high_roles with input as inp
}

test_risk_phi_is_high if {
	risk == "high" with input as with_app({"data": {"classification": "phi", "justification": "Care data."}})
}

test_risk_external_transfer_is_high if {
	inp := with_app({"data": {"external_transfer": true}})
	risk == "high" with input as inp
	required_roles == high_roles with input as inp
}

test_risk_high_wins_over_medium if {
	inp := with_app({
		"data": {"classification": "pii", "justification": "Names."},
		"auth": {"scopes": ["finance:write"]},
	})
	risk == "high" with input as inp
	required_roles == high_roles with input as inp
}

# required_roles is the union of the roles for the risk class (a superset of
# medium's for high), and every role exists in reviewers.toml.
test_risk_roles_are_known_and_nested if {
	medium_roles & high_roles == medium_roles
	every r in high_roles {
		r in {"security", "product-owner", "legal", "compliance", "admin"}
	}
}

# --- judged from the change (input.base) ---

test_risk_change_raises_class_is_medium if {
	# base internal -> head confidential is medium...
	inp := object.union(
		with_app({"data": {"classification": "confidential"}}),
		{"base": object.union(base_input.app, {"data": {"classification": "internal"}})},
	)
	risk == "medium" with input as inp
	required_roles == medium_roles with input as inp
}

test_risk_change_public_to_internal_is_medium if {
	# ...and so is any raise, even to a class that alone would be low.
	inp := object.union(base_input, {"base": object.union(base_input.app, {"data": {"classification": "public"}})})
	risk == "medium" with input as inp
}

test_risk_change_adds_write_scope_is_medium if {
	# base without a write scope -> head with "docs:write" is medium.
	inp := object.union(
		with_app({"auth": {"scopes": ["profile", "finance:read", "docs:write"]}}),
		{"base": base_input.app},
	)
	risk == "medium" with input as inp
	required_roles == medium_roles with input as inp
}

test_risk_change_unchanged_low_stays_low if {
	inp := object.union(base_input, {"base": base_input.app})
	risk == "low" with input as inp
	count(required_roles) == 0 with input as inp
}

test_risk_change_lowering_class_stays_low if {
	inp := object.union(base_input, {"base": object.union(base_input.app, {"data": {"classification": "confidential"}})})
	risk == "low" with input as inp
}

test_risk_change_removing_write_scope_stays_low if {
	inp := object.union(base_input, {"base": object.union(base_input.app, {"auth": {"scopes": ["docs:write"]}})})
	risk == "low" with input as inp
}

test_risk_new_app_without_base_is_low if {
	risk == "low" with input as object.union(base_input, {"base": null})
}
