# OAuth scopes: apps may only request scopes the platform team has approved.
package bazaar

import rego.v1

# BZ0308: every auth.scopes entry must be in governance.allowed_scopes of
# bazaar.toml, so no app quietly gains access nobody reviewed.
deny contains f if {
	scopes := object.get(section("auth"), "scopes", [])
	is_array(scopes)
	some i, scope in scopes
	not scope in object.get(governance, "allowed_scopes", [])
	f := finding("BZ0308", sprintf("auth.scopes[%d]", [i]), sprintf(
		"OAuth scope %v is not in the allow-list: request only scopes listed in bazaar.toml (governance.allowed_scopes), or ask the platform team to add it",
		[scope],
	))
}
