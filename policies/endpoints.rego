# Endpoints: each team serves its apps only from its own subdomain, in a
# fixed shape, over https. (Uniqueness across the catalog is checked by Bazaar
# itself.)
package bazaar

import rego.v1

# The configured apps domain and environments.
apps_domain := input.config.domains.apps

environments := object.get(input.config.domains, "environments", [])

# The endpoint URL, when the app has one (automations may have none).
endpoint := e if {
	e := object.get(input.app, "endpoint", null)
	is_string(e)
}

# url_host(url) is the lower-cased host of an URL: no scheme, user, port,
# path, query or fragment.
url_host(url) := host if {
	parts := split(url, "://")
	count(parts) > 1
	authority := split(split(split(parts[1], "/")[0], "?")[0], "#")[0]
	hostport := split(authority, "@")[count(split(authority, "@")) - 1]
	host := lower(split(hostport, ":")[0])
}

# The endpoint's host, or "" when it cannot be parsed.
endpoint_host := h if {
	h := url_host(endpoint)
} else := ""

# The hosts this app may use: one per configured environment.
allowed_endpoint_hosts contains host if {
	some env in environments
	host := sprintf("%s.%s.%s.%s", [input.folder, team.subdomain, env, apps_domain])
}

# BZ0309: endpoints are served over https only.
deny contains f if {
	is_string(endpoint)
	not startswith(lower(endpoint), "https://")
	f := finding("BZ0309", "endpoint", sprintf(
		"endpoint %q must use https: write it as https://%s.%s.<env>.%s/",
		[endpoint, input.folder, object.get(team, "subdomain", "<team subdomain>"), apps_domain],
	))
}

# BZ0309: the host must be <app folder>.<team subdomain>.<env>.<apps domain>
# with env one of domains.environments in bazaar.toml.
deny contains f if {
	is_string(endpoint)
	is_string(team.subdomain)
	not endpoint_host in allowed_endpoint_hosts
	f := finding("BZ0309", "endpoint", sprintf(
		"endpoint host %q does not follow <app-folder>.<team subdomain>.<env>.%s: use https://%s.%s.<env>.%s/ with <env> one of %s",
		[endpoint_host, apps_domain, input.folder, team.subdomain, apps_domain, concat(", ", environments)],
	))
}
