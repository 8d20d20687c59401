# Shared fixtures and helpers for the policy tests (package bazaar).
#
# base_input is a complete enterprise app that passes every default policy;
# each test changes one thing with object.union (add/replace) or json.remove
# (delete) and looks for the finding it expects.
package bazaar

import rego.v1

fixture_sbom_document := {
	"bomFormat": "CycloneDX",
	"specVersion": "1.5",
	"version": 1,
	"components": [
		{"type": "library", "name": "serde", "version": "1.0.200"},
		{"type": "library", "name": "tokio", "version": "1.40.0"},
	],
	"vulnerabilities": [{
		"id": "CVE-2024-0001",
		"ratings": [{"severity": "low"}, {"severity": "medium"}],
	}],
}

base_input := {
	"app": {
		"schema_version": 1,
		"id": "com.acme.finance.ledger-sync",
		"name": "Ledger Sync",
		"version": "1.2.0",
		"summary": "Keeps the general ledger in sync.",
		"team": "finance",
		"tags": ["ledger"],
		"runtime": "container",
		"tier": "enterprise",
		"endpoint": "https://ledger-sync.finance.prod.apps.acme.internal/",
		"owner": {"primary": "maria-lopez", "backup": "tom-chen"},
		"apis": [{"name": "Acme ERP API", "url": "https://erp.finance.acme.internal/api", "access": "read", "third_party": false}],
		"auth": {"type": "oidc", "scopes": ["profile", "finance:read"]},
		"data": {"classification": "internal", "residency": ["eu-central"], "external_transfer": false},
		"security": {
			"sbom": "sbom.cdx.json",
			"artifact_digest": "sha256:d378a7b72285e1d6e85e2e1d1b3a7ee49c4c87caadfdcd2cf45ac1cd0aec58e6",
		},
		"support": {
			"sla": "99.9% monthly",
			"runbook": "https://wiki.acme.internal/runbooks/ledger-sync",
			"oncall": "finance-tools-primary",
			"channel": "#finance-tools",
		},
		"cost": {"center": "CC-4100", "monthly_usd": 200},
		"lifecycle": {"status": "active", "last_reviewed": "2026-10-01", "review_by": "2027-04-01"},
	},
	"base": null,
	"path": "catalog/finance/ledger-sync",
	"folder": "ledger-sync",
	"team": {
		"slug": "finance",
		"name": "Finance Engineering",
		"forge_team": "acme/finance-eng",
		"subdomain": "finance",
		"cost_centers": ["CC-4100", "CC-4110"],
		"channel": "#finance-eng",
	},
	"config": {
		"domains": {"apps": "apps.acme.internal", "environments": ["prod", "staging", "dev"]},
		"governance": {
			"allowed_scopes": [
				"profile", "email", "finance:read", "finance:write",
				"docs:read", "docs:write", "hr:read", "tickets:write",
			],
			"allowed_regions": ["eu-central", "eu-west", "us-east", "us-west", "ap-southeast"],
			"warn_deadline_days": 30,
			"discover_max_days": 90,
		},
	},
	"catalog": {"apps": {}, "teams": {"finance": {"subdomain": "finance"}}},
	"sbom": {
		"path": "catalog/finance/ledger-sync/sbom.cdx.json",
		"parsed": true,
		"document": fixture_sbom_document,
	},
	"dates": {
		"today": "2026-11-25",
		"days_since_last_review": 55,
		"days_until_review_by": 127,
		"days_from_last_review_to_expires": null,
		"days_until_expires": null,
		"days_until_retire_on": null,
	},
}

# with_app(patch) is base_input with patch merged (recursively) into input.app.
with_app(patch) := object.union(base_input, {"app": patch})

# A passing discover app: no SBOM or digest needed, expires 80 days after review.
discover_input := object.union(
	json.remove(base_input, ["app/security", "app/support/sla", "app/support/runbook", "app/support/oncall", "app/cost"]),
	{
		"app": {
			"tier": "discover",
			"lifecycle": {"last_reviewed": "2026-10-01", "review_by": "2026-12-20", "expires": "2026-12-20"},
		},
		"sbom": null,
		"dates": {"days_from_last_review_to_expires": 80, "days_until_expires": 25, "days_until_review_by": 25},
	},
)

# has_finding(findings, code, field): some finding has this code and field.
has_finding(findings, code, field) if {
	some f in findings
	f.code == code
	f.field == field
}

# has_code(findings, code): some finding has this code.
has_code(findings, code) if {
	some f in findings
	f.code == code
}

# Sanity checks on the fixtures themselves: they must pass every policy.
test_fixture_base_input_passes if {
	count(deny) == 0 with input as base_input
	count(warn) == 0 with input as base_input
}

test_fixture_discover_input_passes if {
	count(deny) == 0 with input as discover_input
	count(warn) == 0 with input as discover_input
}

# Every finding has the documented shape.
test_fixture_findings_are_well_formed if {
	findings := deny with input as json.remove(base_input, ["app/owner", "app/support", "app/security", "app/cost"])
	count(findings) > 0
	every f in findings {
		is_string(f.msg)
		is_string(f.field)
		startswith(f.code, "BZ03")
	}
}
