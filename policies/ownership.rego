# Ownership and support: every app has two accountable people and a place
# where its users get help.
package bazaar

import rego.v1

# BZ0301: an app needs a backup owner, so it is not orphaned when its primary
# owner leaves or is away.
deny contains f if {
	not has_text(section("owner"), "backup")
	f := finding("BZ0301", "owner.backup", "every app needs a backup owner: set owner.backup to the forge login of a second person")
}

# BZ0301: the backup owner must be someone other than the primary owner,
# otherwise there is still only one person accountable.
deny contains f if {
	owner := section("owner")
	has_text(owner, "backup")
	backup := lower(trim_space(owner.backup))
	backup == lower(trim_space(object.get(owner, "primary", "")))
	f := finding("BZ0301", "owner.backup", sprintf(
		"owner.backup is the same person as owner.primary (%s): set owner.backup to a different person's forge login",
		[backup],
	))
}

# BZ0302: every app names a chat channel where users get help.
deny contains f if {
	not has_text(section("support"), "channel")
	f := finding("BZ0302", "support.channel", "every app needs a support channel: set support.channel to the chat channel where users get help, e.g. \"#your-team-help\"")
}
