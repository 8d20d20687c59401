# Tests for cost.rego (BZ0315 actual cost over forecast).
package bazaar

import rego.v1

cost_input(actual) := object.union(with_app({"cost": {"center": "CC-1000", "monthly_usd": 100}}), {"signals": {
	"month": "2026-10",
	"cost_usd": actual,
	"complete_since": "2026-11-01",
}})

cost_warning(actual) := [f | some f in warn with input as cost_input(actual); f.code == "BZ0315"]

test_cost_under_first_threshold_is_quiet if {
	count(cost_warning(124.99)) == 0
}

test_cost_at_25_percent_warns if {
	[f] := cost_warning(125)
	f.field == "cost.monthly_usd"
	f.since == "2026-11-01"
	contains(f.msg, "past the 25% threshold")
}

test_cost_at_50_percent_names_50 if {
	[f] := cost_warning(160)
	contains(f.msg, "60% over the forecast of $100: past the 50% threshold")
}

test_cost_at_double_names_100 if {
	[f] := cost_warning(200)
	contains(f.msg, "past the 100% threshold")
}

test_cost_without_signals_or_forecast_is_quiet if {
	count([f | some f in warn with input as with_app({"cost": {"monthly_usd": 100}}); f.code == "BZ0315"]) == 0
	count([f | some f in warn with input as object.union(base_input, {"signals": null}); f.code == "BZ0315"]) == 0
	count([f |
		some f in warn with input as object.union(with_app({"cost": {"monthly_usd": 0}}), {"signals": {"cost_usd": 50, "month": "2026-10", "complete_since": "2026-11-01"}})
		f.code == "BZ0315"
	]) == 0
}
