# Tests for ownership.rego (BZ0301 backup owner, BZ0302 support channel).
package bazaar

import rego.v1

test_ownership_backup_different_allowed if {
	findings := deny with input as base_input
	not has_code(findings, "BZ0301")
}

test_ownership_backup_missing_denied if {
	findings := deny with input as json.remove(base_input, ["app/owner/backup"])
	has_finding(findings, "BZ0301", "owner.backup")
}

test_ownership_backup_blank_denied if {
	findings := deny with input as with_app({"owner": {"backup": "  "}})
	has_finding(findings, "BZ0301", "owner.backup")
}

test_ownership_backup_same_as_primary_denied if {
	findings := deny with input as with_app({"owner": {"primary": "maria-lopez", "backup": "Maria-Lopez"}})
	has_finding(findings, "BZ0301", "owner.backup")
	count([f | some f in findings; f.code == "BZ0301"]) == 1
}

test_ownership_channel_present_allowed if {
	findings := deny with input as with_app({"support": {"channel": "#ledger-help"}})
	not has_code(findings, "BZ0302")
}

test_ownership_channel_missing_denied if {
	findings := deny with input as json.remove(base_input, ["app/support/channel"])
	has_finding(findings, "BZ0302", "support.channel")
}

test_ownership_channel_missing_on_discover_denied if {
	findings := deny with input as json.remove(discover_input, ["app/support"])
	has_finding(findings, "BZ0302", "support.channel")
}
