# Supply chain and operations: what reviewed apps must declare about how they
# are built, run and paid for.
package bazaar

import rego.v1

# The security.sbom value, or "" when it is absent or blank.
sbom_ref := trim_space(v) if {
	v := object.get(section("security"), "sbom", "")
	is_string(v)
} else := ""

# BZ0303: vetted and enterprise apps carry a software bill of materials, so
# security can see what they are built from.
deny contains f if {
	input.app.tier in reviewed_tiers
	sbom_ref == ""
	f := finding("BZ0303", "security.sbom", sprintf(
		"%s apps need an SBOM: set security.sbom to sbom.cdx.json beside app.toml (generate it with e.g. `syft . -o cyclonedx-json > sbom.cdx.json`) or an https URL",
		[input.app.tier],
	))
}

# BZ0303: an SBOM given as a URL must use https (anything else could be
# tampered with in transit).
deny contains f if {
	input.app.tier in reviewed_tiers
	contains(sbom_ref, "://")
	not startswith(sbom_ref, "https://")
	f := finding("BZ0303", "security.sbom", sprintf(
		"security.sbom %q is not an https URL: use https:// or keep the SBOM as sbom.cdx.json beside app.toml",
		[sbom_ref],
	))
}

# BZ0303: an SBOM given as a path must exist in the app folder (Bazaar sets
# input.sbom only when it found the file).
deny contains f if {
	input.app.tier in reviewed_tiers
	sbom_ref != ""
	not contains(sbom_ref, "://")
	object.get(input, "sbom", null) == null
	f := finding("BZ0303", "security.sbom", sprintf(
		"security.sbom names %q but there is no such file beside app.toml: add the file (CycloneDX JSON) or point security.sbom at an https URL",
		[sbom_ref],
	))
}

# BZ0304: vetted and enterprise apps pin the exact artifact that was reviewed.
deny contains f if {
	input.app.tier in reviewed_tiers
	not has_text(section("security"), "artifact_digest")
	f := finding("BZ0304", "security.artifact_digest", sprintf(
		"%s apps need an artifact digest: set security.artifact_digest = \"sha256:<64 hex>\" of the reviewed build (from your registry or `sha256sum`)",
		[input.app.tier],
	))
}

# What an enterprise app must fill in, by manifest field: [table, key, what].
enterprise_requirements := [
	["support", "sla", "an SLA (support.sla, free text such as \"99.9% monthly, 4h response\")"],
	["support", "runbook", "a runbook (support.runbook, an https URL)"],
	["support", "oncall", "an on-call schedule (support.oncall, the pager schedule name)"],
	["cost", "center", "a cost center (cost.center, one of the team's cost_centers)"],
	["cost", "monthly_usd", "a monthly budget (cost.monthly_usd, a number of US dollars)"],
]

# BZ0305: enterprise (production) apps must be operable and budgeted: one
# finding per missing item so each points at its own field.
deny contains f if {
	input.app.tier == "enterprise"
	some req in enterprise_requirements
	[table, key, what] := req
	not filled(section(table), key)
	f := finding("BZ0305", sprintf("%s.%s", [table, key]), sprintf("enterprise apps need %s: set it in app.toml", [what]))
}

# BZ0314: an app charges one of its own team's cost centers (team.toml
# cost_centers), never another team's.
deny contains f if {
	center := object.get(section("cost"), "center", null)
	center != null
	centers := object.get(team, "cost_centers", null)
	is_array(centers)
	not center in centers
	f := finding("BZ0314", "cost.center", sprintf(
		"cost.center %v is not one of team %v's cost centers (%s): use one of them, or add it to the team's team.toml",
		[center, object.get(team, "slug", input.app.team), concat(", ", [sprintf("%v", [c]) | some c in centers])],
	))
}
