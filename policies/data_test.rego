# Tests for data.rego (BZ0306 justification, BZ0307 residency).
package bazaar

import rego.v1

pii_input := with_app({"data": {
	"classification": "pii",
	"residency": ["eu-central", "us-east"],
	"justification": "Shows employee names and managers.",
}})

test_data_pii_complete_allowed if {
	findings := deny with input as pii_input
	not has_code(findings, "BZ0306")
	not has_code(findings, "BZ0307")
}

test_data_internal_needs_nothing_allowed if {
	findings := deny with input as json.remove(base_input, ["app/data/residency"])
	not has_code(findings, "BZ0306")
	not has_code(findings, "BZ0307")
}

test_data_justification_missing_pii_denied if {
	findings := deny with input as json.remove(pii_input, ["app/data/justification"])
	has_finding(findings, "BZ0306", "data.justification")
}

test_data_justification_blank_phi_denied if {
	findings := deny with input as object.union(pii_input, {"app": {"data": {"classification": "phi", "justification": ""}}})
	has_finding(findings, "BZ0306", "data.justification")
}

test_data_residency_missing_denied if {
	findings := deny with input as json.remove(pii_input, ["app/data/residency"])
	has_finding(findings, "BZ0307", "data.residency")
}

test_data_residency_empty_denied if {
	findings := deny with input as object.union(pii_input, {"app": {"data": {"residency": []}}})
	has_finding(findings, "BZ0307", "data.residency")
}

test_data_residency_region_not_allowed_denied if {
	findings := deny with input as object.union(pii_input, {"app": {"data": {"residency": ["eu-central", "mars-north"]}}})
	has_finding(findings, "BZ0307", "data.residency")
	some f in findings
	f.code == "BZ0307"
	contains(f.msg, "mars-north")
}
