# Tests for endpoints.rego (BZ0309 endpoint shape).
package bazaar

import rego.v1

test_endpoints_prod_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0309")
}

test_endpoints_staging_with_path_allowed if {
	findings := deny with input as with_app({"endpoint": "https://ledger-sync.finance.staging.apps.acme.internal/app/index.html?x=1"})
	not has_code(findings, "BZ0309")
}

test_endpoints_absent_allowed if {
	findings := deny with input as json.remove(with_app({"runtime": "automation"}), ["app/endpoint"])
	not has_code(findings, "BZ0309")
}

test_endpoints_http_denied if {
	findings := deny with input as with_app({"endpoint": "http://ledger-sync.finance.prod.apps.acme.internal/"})
	has_finding(findings, "BZ0309", "endpoint")
}

test_endpoints_other_team_subdomain_denied if {
	findings := deny with input as with_app({"endpoint": "https://ledger-sync.people.prod.apps.acme.internal/"})
	has_finding(findings, "BZ0309", "endpoint")
}

test_endpoints_unknown_environment_denied if {
	findings := deny with input as with_app({"endpoint": "https://ledger-sync.finance.qa.apps.acme.internal/"})
	has_finding(findings, "BZ0309", "endpoint")
}

test_endpoints_wrong_app_folder_denied if {
	findings := deny with input as with_app({"endpoint": "https://ledger.finance.prod.apps.acme.internal/"})
	has_finding(findings, "BZ0309", "endpoint")
}

test_endpoints_other_domain_denied if {
	findings := deny with input as with_app({"endpoint": "https://ledger-sync.finance.prod.apps.example.com/"})
	has_finding(findings, "BZ0309", "endpoint")
}

test_endpoints_suffix_trick_denied if {
	findings := deny with input as with_app({"endpoint": "https://ledger-sync.finance.prod.apps.acme.internal.evil.example/"})
	has_finding(findings, "BZ0309", "endpoint")
}
