# Cost: actual spend against the forecast. The platform's billing export
# commits signals/ (one row per app and month); Bazaar gives each app's last
# complete month as input.signals. The articles' alert thresholds are 25%, 50%
# and 100% over the forecast (cost.monthly_usd).
package bazaar

import rego.v1

cost_thresholds := [25, 50, 100]

# The last complete month's signals, or {} when the app has none.
signals := s if {
	s := object.get(input, "signals", null)
	is_object(s)
} else := {}

# How far the actual cost is over the forecast, in percent.
cost_over_pct := p if {
	forecast := object.get(section("cost"), "monthly_usd", null)
	is_number(forecast)
	forecast > 0
	actual := object.get(signals, "cost_usd", null)
	is_number(actual)
	p := ((actual - forecast) * 100) / forecast
}

# The highest threshold crossed.
cost_threshold := max({t | some t in cost_thresholds; cost_over_pct >= t})

# BZ0315: warn when the actual cost passes a threshold; the remediation deadline
# runs from the day the month's numbers were complete.
warn contains f if {
	t := cost_threshold
	msg := sprintf(
		"actual cost in %v was $%v, %v%% over the forecast of $%v: past the %v%% threshold; bring the cost down, or raise cost.monthly_usd and have the new budget approved",
		[signals.month, signals.cost_usd, round(cost_over_pct), input.app.cost.monthly_usd, t],
	)
	f := object.union(finding("BZ0315", "cost.monthly_usd", msg), {"since": signals.complete_since})
}
