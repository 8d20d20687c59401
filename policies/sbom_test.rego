# Tests for sbom.rego (BZ0312 CycloneDX shape, BZ0313 vulnerabilities).
package bazaar

import rego.v1

# with_sbom_document(patch) is base_input with patch merged into the SBOM document.
with_sbom_document(patch) := object.union(base_input, {"sbom": {"document": patch}})

# --- BZ0312 ---

test_sbom_valid_cyclonedx_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0312")
}

test_sbom_no_file_no_check if {
	findings := deny with input as object.union(
		with_app({"security": {"sbom": "https://artifacts.acme.internal/sbom/x.cdx.json"}}),
		{"sbom": null},
	)
	not has_code(findings, "BZ0312")
}

test_sbom_not_json_denied if {
	findings := deny with input as object.union(
		json.remove(base_input, ["sbom/document"]),
		{"sbom": {"parsed": false, "error": "expected value at line 1 column 1"}},
	)
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_not_json_denied_for_discover_too if {
	findings := deny with input as object.union(discover_input, {"sbom": {
		"path": "catalog/finance/ledger-sync/sbom.cdx.json",
		"parsed": false,
		"error": "EOF while parsing",
	}})
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_wrong_bom_format_denied if {
	findings := deny with input as with_sbom_document({"bomFormat": "SPDX"})
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_spec_version_2_denied if {
	findings := deny with input as with_sbom_document({"specVersion": "2.0"})
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_spec_version_number_denied if {
	findings := deny with input as with_sbom_document({"specVersion": 1.5})
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_components_missing_denied if {
	findings := deny with input as json.remove(base_input, ["sbom/document/components"])
	has_finding(findings, "BZ0312", "security.sbom")
}

test_sbom_component_without_name_denied if {
	findings := deny with input as with_sbom_document({"components": [
		{"type": "library", "name": "serde"},
		{"type": "library", "version": "1.0"},
	]})
	some f in findings
	f.code == "BZ0312"
	contains(f.msg, "components[1]")
}

test_sbom_document_not_object_denied if {
	findings := deny with input as object.union(base_input, {"sbom": {"document": ["not", "a", "bom"]}})
	has_finding(findings, "BZ0312", "security.sbom")
}

# --- BZ0313 ---

critical_vulnerability := {"vulnerabilities": [
	{"id": "CVE-2024-0001", "ratings": [{"severity": "low"}]},
	{"id": "CVE-2025-1234", "ratings": [{"severity": "medium"}, {"severity": "critical"}]},
]}

test_sbom_medium_vulnerability_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0313")
	warnings := warn with input as base_input
	not has_code(warnings, "BZ0313")
}

test_sbom_critical_vulnerability_enterprise_denied if {
	findings := deny with input as with_sbom_document(critical_vulnerability)
	some f in findings
	f.code == "BZ0313"
	f.field == "security.sbom"
	contains(f.msg, "CVE-2025-1234")
	contains(f.msg, "critical")
	count([g | some g in findings; g.code == "BZ0313"]) == 1
}

test_sbom_high_vulnerability_vetted_denied if {
	inp := object.union(
		with_app({"tier": "vetted"}),
		{"sbom": {"document": {"vulnerabilities": [{"id": "GHSA-xxxx-yyyy", "ratings": [{"severity": "HIGH"}]}]}}},
	)
	findings := deny with input as inp
	some f in findings
	f.code == "BZ0313"
	contains(f.msg, "GHSA-xxxx-yyyy")
	contains(f.msg, "high")
}

test_sbom_critical_vulnerability_discover_warns if {
	inp := object.union(discover_input, {"sbom": {
		"path": "catalog/finance/ledger-sync/sbom.cdx.json",
		"parsed": true,
		"document": object.union(fixture_sbom_document, critical_vulnerability),
	}})
	findings := deny with input as inp
	not has_code(findings, "BZ0313")
	warnings := warn with input as inp
	some w in warnings
	w.code == "BZ0313"
	contains(w.msg, "CVE-2025-1234")
}

test_sbom_vulnerability_not_affected_allowed if {
	findings := deny with input as with_sbom_document({"vulnerabilities": [{
		"id": "CVE-2025-1234",
		"ratings": [{"severity": "critical"}],
		"analysis": {"state": "not_affected", "justification": "code_not_reachable"},
	}]})
	not has_code(findings, "BZ0313")
}

test_sbom_vulnerability_in_triage_denied if {
	findings := deny with input as with_sbom_document({"vulnerabilities": [{
		"id": "CVE-2025-1234",
		"ratings": [{"severity": "high"}],
		"analysis": {"state": "in_triage"},
	}]})
	has_finding(findings, "BZ0313", "security.sbom")
}

# --- malformed documents are findings, never evaluation errors ---

test_sbom_malformed_document_denied_without_error if {
	findings := deny with input as with_sbom_document({
		"components": "none",
		"vulnerabilities": [1, "x", {"ratings": "bad"}, {"ratings": [7, {"severity": 5}]}, {"analysis": "x", "ratings": [{"severity": "high"}]}],
	})
	has_finding(findings, "BZ0312", "security.sbom")
	# the one well-formed high rating is still reported
	count([f | some f in findings; f.code == "BZ0313"]) == 1
}

test_sbom_vulnerabilities_not_a_list_no_error if {
	findings := deny with input as with_sbom_document({"vulnerabilities": "none"})
	not has_code(findings, "BZ0313")
}
