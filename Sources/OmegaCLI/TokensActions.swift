import Foundation
import Omega

/// What `omega tokens …` and the REPL's `:tokens …` share: where a budget
/// set from the command line goes, which windows a reset clears, and how
/// amounts typed by people are read.
enum TokensActions {
    /// The limit `omega tokens budget` sets: whose, and in which unit.
    struct BudgetTarget {
        var kind: BudgetScope.Kind
        var name: String
        var unit: BudgetUnit = .tokens

        var label: String {
            switch kind {
            case .day: return "daily budget"
            case .week: return "weekly budget"
            case .month: return "monthly budget"
            case .run: return "run budget"
            default: return "\(kind.rawValue) \(name)"
            }
        }
    }

    /// Sets or removes (`amount` nil) a limit in the ledger and, when a
    /// meter is running, in it too; returns what to tell the user.
    static func setBudget(_ target: BudgetTarget, amount: Int64?, ledger: Ledger, meter: Meter? = nil) throws -> String {
        try ledger.setBudgetOverride(kind: target.kind, name: target.name, unit: target.unit, amount: amount)
        if let meter {
            var limits = meter.policy.limits(of: target.kind, target.name)
            limits[target.unit] = amount
            meter.setLimits(target.kind, target.name, limits)
        }
        guard let amount else { return "\(target.label): the limit set from the command line is removed (the configuration's, if any, applies)" }
        return "\(target.label): \(target.unit == .tokens ? Dashboard.grouped(amount) + " tokens" : target.unit.format(amount)) (kept in the ledger \(ledger.path); later runs obey it)"
    }

    /// An amount typed by a person, in the unit's internal measure: `300000`,
    /// `300k`, `1.5m`, `300_000`, `300,000`; dollars for usd (`2.50`,
    /// `$2.50`, exact); seconds may have decimals.
    static func amount(_ text: String, unit: BudgetUnit) throws -> Int64 {
        var t = text.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: "")
        let problem = CLIError("expected an amount of \(unit.shortName), got '\(text)'")
        switch unit {
        case .usd:
            if t.hasPrefix("$") { t.removeFirst() }
            guard let m = Money(dollars: t), m.picodollars >= 0 else { throw problem }
            return m.picodollars
        case .seconds:
            guard let d = Double(t), d.isFinite, d >= 0, d < 1e12 else { throw problem }
            return Int64((d * 1000).rounded())
        default:
            var scale = 1.0
            if t.hasSuffix("k") { scale = 1e3; t.removeLast() } else if t.hasSuffix("m") { scale = 1e6; t.removeLast() }
            if scale == 1, let n = Int64(t), n >= 0 { return n }
            guard let d = Double(t), d.isFinite, d >= 0, d * scale < 9e18 else { throw problem }
            let n = d * scale
            guard n == n.rounded() else { throw problem }   // 1.2345k tokens is not a whole number
            return Int64(n)
        }
    }

    /// The windows `reset --scope SCOPE` clears, as ledger keys.
    static func windowsToReset(_ scope: String, policy: BudgetPolicy, now: Date = Date()) throws -> [String] {
        let keys = CalendarWindows(timeZone: policy.timeZone).keys(at: now)
        switch scope.lowercased() {
        case "day", "daily", "today": return ["day:\(keys.day)"]
        case "week", "weekly": return ["week:\(keys.week)"]
        case "month", "monthly": return ["month:\(keys.month)"]
        case "all": return ["day:\(keys.day)", "week:\(keys.week)", "month:\(keys.month)"]
        default: throw CLIError("unknown scope '\(scope)' (day, week, month or all)")
        }
    }

    /// Describes a reset that happened.
    static func describe(_ resets: [Ledger.WindowReset]) -> String {
        resets.map { "\($0.window): count started again (it held \(Dashboard.grouped($0.cleared.tokens)) tokens, \(Money(picodollars: $0.cleared.picodollars)); the calls stay in the ledger)" }
            .joined(separator: "\n")
    }
}

extension BudgetPolicy {
    /// The configured limits of a model, agent, workflow, the run or a window.
    func limits(of kind: BudgetScope.Kind, _ name: String) -> BudgetLimits {
        switch kind {
        case .model: return models[name] ?? [:]
        case .agent: return agents[name] ?? [:]
        case .workflow: return workflows[name] ?? [:]
        case .run: return run
        case .day, .week, .month: return windows[kind] ?? [:]
        case .scope: return [:]
        }
    }
}
