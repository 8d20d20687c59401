# Data protection: apps that handle personal (pii) or health (phi) data say
# why they need it and where it is stored.
package bazaar

import rego.v1

# True when the app handles pii or phi.
handles_sensitive_data if input.app.data.classification in sensitive_classes

# BZ0306: pii/phi access must be justified, so reviewers can judge whether the
# app really needs that data.
deny contains f if {
	handles_sensitive_data
	not has_text(section("data"), "justification")
	f := finding("BZ0306", "data.justification", sprintf(
		"apps handling %s data need a justification: set data.justification to one or two sentences on which data the app uses and why",
		[input.app.data.classification],
	))
}

# The declared residency regions ([] when absent or not a list).
residency := r if {
	r := object.get(section("data"), "residency", [])
	is_array(r)
} else := []

# BZ0307: pii/phi data must have a declared storage location...
deny contains f if {
	handles_sensitive_data
	count(residency) == 0
	f := finding("BZ0307", "data.residency", sprintf(
		"apps handling %s data must say where it is stored: set data.residency to one or more of %s",
		[input.app.data.classification, concat(", ", object.get(governance, "allowed_regions", []))],
	))
}

# BZ0307: ...and every region must be on the allow-list in bazaar.toml
# (governance.allowed_regions), where the company may legally keep it.
deny contains f if {
	handles_sensitive_data
	some region in residency
	not region in object.get(governance, "allowed_regions", [])
	f := finding("BZ0307", "data.residency", sprintf(
		"data.residency region %v is not allowed for %s data: use one of %s, or ask the platform team to allow it in bazaar.toml",
		[region, input.app.data.classification, concat(", ", object.get(governance, "allowed_regions", []))],
	))
}
