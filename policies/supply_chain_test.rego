# Tests for supply_chain.rego (BZ0303 SBOM, BZ0304 digest, BZ0305 enterprise
# operations, BZ0314 cost center).
package bazaar

import rego.v1

# --- BZ0303: SBOM present for vetted/enterprise ---

test_supply_chain_sbom_file_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0303")
}

test_supply_chain_sbom_https_url_allowed if {
	findings := deny with input as object.union(
		with_app({"tier": "vetted", "security": {"sbom": "https://artifacts.acme.internal/sbom/ledger-sync.cdx.json"}}),
		{"sbom": null},
	)
	not has_code(findings, "BZ0303")
}

test_supply_chain_sbom_missing_vetted_denied if {
	findings := deny with input as object.union(
		json.remove(with_app({"tier": "vetted"}), ["app/security/sbom"]),
		{"sbom": null},
	)
	has_finding(findings, "BZ0303", "security.sbom")
}

test_supply_chain_sbom_missing_enterprise_denied if {
	findings := deny with input as object.union(json.remove(base_input, ["app/security/sbom"]), {"sbom": null})
	has_finding(findings, "BZ0303", "security.sbom")
}

test_supply_chain_sbom_path_without_file_denied if {
	findings := deny with input as object.union(base_input, {"sbom": null})
	has_finding(findings, "BZ0303", "security.sbom")
}

test_supply_chain_sbom_http_url_denied if {
	findings := deny with input as object.union(
		with_app({"security": {"sbom": "http://artifacts.acme.internal/sbom/ledger-sync.cdx.json"}}),
		{"sbom": null},
	)
	has_finding(findings, "BZ0303", "security.sbom")
}

test_supply_chain_sbom_not_needed_for_discover if {
	findings := deny with input as discover_input
	not has_code(findings, "BZ0303")
	not has_code(findings, "BZ0304")
}

# --- BZ0304: artifact digest for vetted/enterprise ---

test_supply_chain_digest_present_allowed if {
	findings := deny with input as with_app({"tier": "vetted"})
	not has_code(findings, "BZ0304")
}

test_supply_chain_digest_missing_denied if {
	findings := deny with input as json.remove(with_app({"tier": "vetted"}), ["app/security/artifact_digest"])
	has_finding(findings, "BZ0304", "security.artifact_digest")
}

# --- BZ0305: enterprise operations ---

test_supply_chain_enterprise_ops_complete_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0305")
}

test_supply_chain_enterprise_ops_zero_budget_allowed if {
	findings := deny with input as with_app({"cost": {"monthly_usd": 0}})
	not has_code(findings, "BZ0305")
}

test_supply_chain_enterprise_ops_each_missing_denied if {
	findings := deny with input as json.remove(base_input, [
		"app/support/sla", "app/support/runbook", "app/support/oncall",
		"app/cost/center", "app/cost/monthly_usd",
	])
	fields := {f.field | some f in findings; f.code == "BZ0305"}
	fields == {"support.sla", "support.runbook", "support.oncall", "cost.center", "cost.monthly_usd"}
}

test_supply_chain_enterprise_ops_one_missing_denied if {
	findings := deny with input as json.remove(base_input, ["app/support/runbook"])
	{f.field | some f in findings; f.code == "BZ0305"} == {"support.runbook"}
}

test_supply_chain_enterprise_ops_not_needed_for_vetted if {
	findings := deny with input as json.remove(with_app({"tier": "vetted"}), ["app/support/sla", "app/cost"])
	not has_code(findings, "BZ0305")
}

# --- BZ0314: cost center belongs to the team ---

test_supply_chain_cost_center_of_team_allowed if {
	findings := deny with input as with_app({"cost": {"center": "CC-4110"}})
	not has_code(findings, "BZ0314")
}

test_supply_chain_cost_center_absent_allowed if {
	findings := deny with input as json.remove(with_app({"tier": "vetted"}), ["app/cost"])
	not has_code(findings, "BZ0314")
}

test_supply_chain_cost_center_of_other_team_denied if {
	findings := deny with input as with_app({"cost": {"center": "CC-2200"}})
	has_finding(findings, "BZ0314", "cost.center")
}
