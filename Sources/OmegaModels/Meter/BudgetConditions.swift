import Foundation
import OmegaCore

/// A call refused because a scope cannot take its worst case. Scheme code
/// sees it as a continuable `budget-exceeded` condition.
public struct BudgetExceeded: Error, CustomStringConvertible, Sendable {
    /// The scope's id (for extending it), kind, name and label.
    public var scopeID: Int
    /// What kind of scope refused (a `with-budget` scope, the run, a model, agent, workflow or window).
    public var kind: BudgetScope.Kind
    /// The scope's name (a model, agent, window key, or label).
    public var name: String
    /// How messages name it (`agent code-reviewer`, `budget summarise.scm:12`).
    public var label: String
    /// The unit whose limit would be passed.
    public var unit: BudgetUnit
    /// In the unit's internal scale (tokens, picodollars, calls, milliseconds).
    public var limit: Int64
    /// What the scope has settled, in the unit's internal scale.
    public var used: Int64
    /// What calls in flight hold reserved in it.
    public var reserved: Int64
    /// What this call asked to reserve.
    public var requested: Int64
    /// The model of the refused call.
    public var model: String
    /// The agent of the refused call, if any.
    public var agent: String?
    /// The workflow of the refused call, if any.
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
    /// The scope whose rule held the call back.
    public var label: String
    /// How full the scope is, in percent.
    public var percent: Int
    /// Why the call was held back.
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
    /// What stopped the run.
    public var message: String
    public var description: String { message }
}

/// A call the meter cannot price under a money budget.
public struct UnpricedModel: Error, CustomStringConvertible, Sendable {
    /// The model with no price.
    public var model: String
    /// ` (did you mean gpt-4o?)` when a known name is near.
    public var hint = ""
    public var description: String {
        "no price for model \(model)\(hint), so a money budget cannot be enforced: add it under [prices.models] in the configuration, or set budget.allow_unpriced = true to charge it as $0"
    }
}

/// A reported crossing of a warning threshold, for `on-budget-threshold`.
public struct ThresholdEvent: Sendable {
    /// The threshold crossed, in percent.
    public var percent: Int
    /// The scope's state at the crossing.
    public var status: ScopeStatus
}

/// A scope's state for one unit, as `budget-status` and reports show it.
public struct ScopeStatus: Sendable {
    /// The scope's id.
    public var scopeID: Int
    /// What kind of scope it is.
    public var kind: BudgetScope.Kind
    /// Its name.
    public var name: String
    /// How messages name it.
    public var label: String
    /// The unit this status is for.
    public var unit: BudgetUnit
    /// The limit in that unit; nil when it has none.
    public var limit: Int64?
    /// What it has settled.
    public var used: Int64
    /// What calls in flight hold reserved.
    public var reserved: Int64
    /// The escalation level it is at.
    public var level: EscalationLevel

    /// What is left under the limit (settled and reserved both count); nil without a limit.
    public var remaining: Int64? { limit.map { max(0, $0.adding(saturating: -used.adding(saturating: reserved))) } }
    /// Percentage of the limit used (settled), when there is a limit.
    public var percent: Double? {
        guard let l = limit, l > 0 else { return nil }
        return Double(used) * 100 / Double(l)
    }
}
