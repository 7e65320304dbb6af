import Foundation
import OmegaCore

/// A call refused because a scope cannot take its worst case. Scheme code
/// sees it as a continuable `budget-exceeded` condition.
public struct BudgetExceeded: Error, CustomStringConvertible, Sendable {
    /// The scope's id (for extending it), kind, name and label.
    public var scopeID: Int
    public var kind: BudgetScope.Kind
    public var name: String
    public var label: String
    public var unit: BudgetUnit
    /// In the unit's internal scale (tokens, picodollars, calls, milliseconds).
    public var limit: Int64
    public var used: Int64
    public var reserved: Int64
    public var requested: Int64
    public var model: String
    public var agent: String?
    public var workflow: String?
    /// Set when the limit is the critical escalation level, not a hard limit.
    public var level: EscalationLevel?

    /// `agent code-reviewer would exceed its limit of 50000 tokens (current: 48000, requested: 3000)`.
    public var description: String {
        let what = level == .critical ? "critical level" : "limit"
        return "\(label) would exceed its \(what) of \(unit.format(limit)) (current: \(BudgetExceeded.plain(unit, used.adding(saturating: reserved))), requested: \(BudgetExceeded.plain(unit, requested)))"
    }

    static func plain(_ unit: BudgetUnit, _ amount: Int64) -> String {
        switch unit {
        case .usd, .seconds: return unit.format(amount)
        default: return String(amount)
        }
    }
}

/// A call a degradation rule held back (`defer`, or `cache_only` without a
/// cached answer). Scheme code sees a `budget-deferred` condition.
public struct BudgetDeferred: Error, CustomStringConvertible, Sendable {
    public var label: String
    public var percent: Int
    public var reason: String
    /// `label` says why (`budget x is past 95%`, `mode economy`).
    public var description: String { "\(label): \(reason)" }
}

/// A host's answer to a refused call (`Interpreter.budgetApprover`).
public enum BudgetApproval: Sendable, Equatable {
    /// The refusal stands: the evaluation stops.
    case decline
    /// This one call may go past the limit.
    case once
    /// The refused scope's limit grows by this much, in the refused unit's
    /// internal measure (tokens, calls, milliseconds, or picodollars for usd).
    case extend(Int64)
}

/// The run was stopped: a scope went past the emergency percentage (a
/// provider returned more than was reserved).
public struct BudgetEmergencyStop: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// A call the meter cannot price under a money budget.
public struct UnpricedModel: Error, CustomStringConvertible, Sendable {
    public var model: String
    /// ` (did you mean gpt-4o?)` when a known name is near.
    public var hint = ""
    public var description: String {
        "no price for model \(model)\(hint), so a money budget cannot be enforced: add it under [prices.models] in the configuration, or set budget.allow_unpriced = true to charge it as $0"
    }
}

/// A reported crossing of a warning threshold, for `on-budget-threshold`.
public struct ThresholdEvent: Sendable {
    public var percent: Int
    public var status: ScopeStatus
}

/// A scope's state for one unit, as `budget-status` and reports show it.
public struct ScopeStatus: Sendable {
    public var scopeID: Int
    public var kind: BudgetScope.Kind
    public var name: String
    public var label: String
    public var unit: BudgetUnit
    public var limit: Int64?
    public var used: Int64
    public var reserved: Int64
    public var level: EscalationLevel

    public var remaining: Int64? { limit.map { max(0, $0.adding(saturating: -used.adding(saturating: reserved))) } }
    /// Percentage of the limit used (settled), when there is a limit.
    public var percent: Double? {
        guard let l = limit, l > 0 else { return nil }
        return Double(used) * 100 / Double(l)
    }
}
