# Tests for scopes.rego (BZ0308 OAuth scope allow-list).
package bazaar

import rego.v1

test_scopes_allowed if {
	findings := deny with input as with_app({"auth": {"scopes": ["email", "docs:write"]}})
	not has_code(findings, "BZ0308")
}

test_scopes_no_auth_allowed if {
	findings := deny with input as json.remove(base_input, ["app/auth"])
	not has_code(findings, "BZ0308")
}

test_scopes_unlisted_denied_with_index if {
	findings := deny with input as with_app({"auth": {"scopes": ["profile", "admin:all", "finance:read", "root"]}})
	{f.field | some f in findings; f.code == "BZ0308"} == {"auth.scopes[1]", "auth.scopes[3]"}
}
