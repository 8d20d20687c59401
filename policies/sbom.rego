# SBOM content: the SBOM file kept beside app.toml must be CycloneDX JSON,
# and the vulnerabilities it reports are acted upon.
package bazaar

import rego.v1

# The SBOM file Bazaar found in the app folder (undefined when there is none).
sbom_file := s if {
	s := object.get(input, "sbom", null)
	is_object(s)
}

sbom_path := object.get(sbom_file, "path", "the SBOM file")

# BZ0312: the file must be readable JSON at all.
deny contains f if {
	object.get(sbom_file, "parsed", false) != true
	f := finding("BZ0312", "security.sbom", sprintf(
		"%s could not be read as JSON (%v): regenerate it as CycloneDX JSON, e.g. `syft . -o cyclonedx-json > sbom.cdx.json`",
		[sbom_path, object.get(sbom_file, "error", "parse error")],
	))
}

# True when Bazaar parsed the SBOM file as JSON.
sbom_parsed if sbom_file.parsed == true

# The parsed SBOM document (null when "document" is missing).
sbom_doc := object.get(sbom_file, "document", null) if sbom_parsed

# What is wrong with the document's CycloneDX shape (empty when it looks right).
sbom_problems contains "the document is not a JSON object" if {
	sbom_parsed
	not is_object(sbom_doc)
}

sbom_problems contains "bomFormat is not \"CycloneDX\"" if {
	is_object(sbom_doc)
	object.get(sbom_doc, "bomFormat", null) != "CycloneDX"
}

sbom_problems contains "specVersion is not a CycloneDX 1.x version string such as \"1.5\"" if {
	is_object(sbom_doc)
	not cyclonedx_v1(object.get(sbom_doc, "specVersion", null))
}

sbom_problems contains "components is not an array" if {
	is_object(sbom_doc)
	not is_array(object.get(sbom_doc, "components", null))
}

sbom_problems contains msg if {
	is_object(sbom_doc)
	some i, c in as_list(object.get(sbom_doc, "components", []))
	not named_component(c)
	msg := sprintf("components[%d] lacks a string type and name", [i])
}

cyclonedx_v1(v) if {
	is_string(v)
	startswith(v, "1.")
}

named_component(c) if {
	is_string(c.type)
	is_string(c.name)
}

# BZ0312: the document must look like CycloneDX JSON (bomFormat, specVersion
# 1.x, components with type and name), so tools can read it. One finding per
# problem.
deny contains f if {
	some problem in sbom_problems
	f := finding("BZ0312", "security.sbom", sprintf(
		"%s is not CycloneDX JSON: %s; regenerate it with a CycloneDX tool (syft, cdxgen, cyclonedx-cli)",
		[sbom_path, problem],
	))
}

# Severities that count as serious.
serious_severities := {"high", "critical"}

# CycloneDX analysis states that say the app is not exposed: recording one of
# these in the vulnerability's `analysis.state` clears it.
cleared_states := {"not_affected", "false_positive", "resolved", "resolved_with_pedigree"}

# The reported vulnerabilities rated high or critical that have not been
# cleared, as {"id", "severity"} with the worst serious severity.
serious_vulnerabilities contains vuln if {
	is_object(sbom_doc)
	some v in as_list(object.get(sbom_doc, "vulnerabilities", []))
	is_object(v)
	not cleared(v)
	severities := {lower(r.severity) | some r in as_list(object.get(v, "ratings", [])); is_string(r.severity)} & serious_severities
	count(severities) > 0
	id := object.get(v, "id", object.get(v, "bom-ref", "(no id)"))
	vuln := {"id": id, "severity": worst_severity(severities)}
}

# cleared(v): the vulnerability's analysis.state says the app is not exposed.
cleared(v) if v.analysis.state in cleared_states

worst_severity(s) := "critical" if {
	"critical" in s
} else := "high"

vulnerability_message(vuln) := sprintf(
	"%s lists %s vulnerability %v: upgrade the affected component and regenerate the SBOM, or record analysis.state \"not_affected\" with a justification in its entry",
	[sbom_path, vuln.severity, vuln.id],
)

# BZ0313: a high/critical vulnerability blocks vetted and enterprise apps...
deny contains f if {
	input.app.tier in reviewed_tiers
	some vuln in serious_vulnerabilities
	f := finding("BZ0313", "security.sbom", vulnerability_message(vuln))
}

# BZ0313: ...and is a warning (with a deadline) for discover apps.
warn contains f if {
	input.app.tier == "discover"
	some vuln in serious_vulnerabilities
	f := finding("BZ0313", "security.sbom", vulnerability_message(vuln))
}
