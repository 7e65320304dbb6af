import Foundation
import OmegaCore
import OmegaModels

/// What `omega tokens …` and the REPL's `:tokens …` share: where a budget
/// set from the command line goes, which windows a reset clears, and how
/// amounts typed by people are read.
enum TokensActions {
    /// The limit `omega tokens budget` sets: whose, within which window, and in which unit.
    struct BudgetTarget {
        var kind: BudgetScope.Kind
        var name: String
        /// A workflow's, agent's or model's limit within each day, week or month.
        var window: BudgetScope.Kind? = nil
        var unit: BudgetUnit = .tokens

        var label: String {
            switch kind {
            case .day, .week, .month: return "\(kind.adjective) budget"
            case .run: return "run budget"
            case .total: return "total budget"
            default: return "\(kind.rawValue) \(name)" + (window.map { "'s \($0.adjective) budget" } ?? "")
            }
        }
    }

    /// Sets or removes (`amount` nil) a limit in the ledger and, when a
    /// meter is running, in it too; returns what to tell the user.
    static func setBudget(_ target: BudgetTarget, amount: Int64?, ledger: any LedgerReporting, meter: Meter? = nil) throws -> String {
        try ledger.setBudgetOverride(kind: target.kind, name: target.name, window: target.window, unit: target.unit, amount: amount)
        if let meter {
            var limits = meter.policy.limits(of: target.kind, target.name, window: target.window)
            limits[target.unit] = amount
            meter.setLimits(target.kind, target.name, window: target.window, limits)
        }
        guard let amount else { return "\(target.label): the limit set from the command line is removed (the configuration's, if any, applies)" }
        let counts = target.kind.isNamed && target.window == nil ? "; it counts everything recorded since its last reset" : ""
        return "\(target.label): \(target.unit == .tokens ? Dashboard.grouped(amount) + " tokens" : target.unit.format(amount)) (kept in the ledger \(ledger.path); later runs obey it\(counts))"
    }

    /// Sets the mode: in the running interpreter (when there is one) and,
    /// with a ledger, for later runs too; returns what to tell the user.
    static func setMode(_ name: String, interp: Interpreter?, ledger: (any LedgerReporting)?) throws -> String {
        guard let mode = Session.modes.first(where: { $0.name == name.lowercased() }) else {
            throw CLIError("unknown mode '\(name)' (economy, emergency or standard)")
        }
        if let interp { _ = try interp.evaluate("(\(mode.name)-mode!)", sourceName: "<tokens mode>") }
        try ledger?.setSetting("mode", mode.name == "standard" ? nil : mode.name)
        let kept = ledger == nil ? " (this session only: there is no ledger)" : mode.name == "standard" ? "" : " (kept in the ledger: later runs use it until `omega tokens mode standard`)"
        return "mode: \(mode.name) — \(mode.does)\(kept)"
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
            guard let ms = Double(t).flatMap(CheckedNumber.milliseconds) else { throw problem }
            return ms
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

    /// What `reset WHAT` names: `total` (counts since the last reset), a
    /// window (`day`, `week`, `month`), or `all` (nil: both).
    static func resetPeriod(_ what: String) throws -> BudgetScope.Kind? {
        switch what.lowercased() {
        case "day", "daily", "today": return .day
        case "week", "weekly": return .week
        case "month", "monthly": return .month
        case "total": return .total
        case "all", "": return nil
        default: throw CLIError("unknown budget count '\(what)' (total, day, week, month or all)")
        }
    }

    /// The counters `reset` clears, as ledger keys.
    static func countersToReset(_ what: String, kind: BudgetScope.Kind?, name: String?, policy: BudgetPolicy,
                                ledger: any LedgerReporting, now: Date = Date()) throws -> [String] {
        let keys = CalendarWindows(timeZone: policy.timeZone).keys(at: now)
        return try ledger.countersToReset(period: try resetPeriod(what), kind: kind, name: name, keys: keys)
    }

    /// What a reset will clear, for the confirmation question.
    static func summary(_ what: String, kind: BudgetScope.Kind?, name: String?) -> String {
        let target = kind.map { "\($0.rawValue) \(name ?? "")" }
        switch (try? resetPeriod(what)) ?? nil {
        case .total?: return target.map { "\($0)'s count since its last reset" } ?? "the total and every model's, agent's and workflow's count since their last reset"
        case let p? where p.isWindow:
            return target.map { "\($0)'s count for this \(p.rawValue)" } ?? "this \(p.rawValue)'s count (for everyone)"
        default: return target.map { "every count of \($0)" } ?? "every budget count (the total, every name's, this day's, week's and month's)"
        }
    }

    /// Describes a reset that happened.
    static func describe(_ resets: [Ledger.WindowReset]) -> String {
        let held = resets.filter { $0.cleared != Amounts() }
        let shown = held.isEmpty ? Array(resets.prefix(1)) : held
        var lines = shown.map {
            "\(BudgetCounter.describe($0.window)): count started again (it held \(Dashboard.grouped($0.cleared.tokens)) tokens, \(Money(picodollars: $0.cleared.picodollars)), \($0.cleared.calls) calls)"
        }
        if resets.count > shown.count { lines.append("\(resets.count - shown.count) other counts were already at zero") }
        lines.append("(the calls stay in the ledger and in reports)")
        return lines.joined(separator: "\n")
    }
}

extension BudgetPolicy {
    /// The configured limits of a model, agent, workflow, shared budget, the run, the total or a window.
    func limits(of kind: BudgetScope.Kind, _ name: String, window: BudgetScope.Kind? = nil) -> BudgetLimits {
        switch kind {
        case .model, .agent, .workflow, .shared: return limits(kind, name, window: window) ?? [:]
        case .run: return run
        case .total: return total
        case .day, .week, .month: return windows[kind] ?? [:]
        case .scope: return [:]
        }
    }
}
