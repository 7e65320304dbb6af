import Foundation
import OmegaCore

/// The budgets and rules a meter starts with: from the configuration's
/// `[budget]` tables, `--budget`, `OMEGA_TOKEN_BUDGET`, or a host.
public struct BudgetPolicy: Sendable {
    /// Limits of the whole run.
    public var run: BudgetLimits = [:]
    /// Limits of each calendar window (`.day`, `.week`, `.month`), shared by
    /// every process using the same ledger.
    public var windows: [BudgetScope.Kind: BudgetLimits] = [:]
    /// Escalation levels per window (`.run`, `.day`, `.week`, `.month`).
    public var levels: [BudgetScope.Kind: EscalationLevels] = [:]
    /// Per model, agent and workflow limits: everything each has spent since
    /// its last reset, in every run that used the same ledger.
    public var models: [String: BudgetLimits] = [:]
    /// Limits per agent (`[budget.agents]`), over everything each has spent since its reset.
    public var agents: [String: BudgetLimits] = [:]
    /// Limits per workflow (`[budget.workflows]`), over everything each has spent since its reset.
    public var workflows: [String: BudgetLimits] = [:]
    /// Limits of shared budgets (`[budget.shared]`, `omega tokens budget
    /// --shared`), over everything charged to each since its reset.
    public var shared: [String: BudgetLimits] = [:]
    /// Per model, agent and workflow limits within each calendar window:
    /// `periodic[.day]?[.model]?["gpt-4o"]` (seed 000's per-model daily budget).
    public var periodic: [BudgetScope.Kind: [BudgetScope.Kind: [String: BudgetLimits]]] = [:]
    /// Limits of everything recorded since the last reset (seed 002's `total_budget`).
    public var total: BudgetLimits = [:]
    /// Percentages at which a scope's use is reported (once each).
    public var thresholds: [Int] = [70, 80, 90]
    /// A scope pushed past this percentage (a server ignoring max-tokens)
    /// stops the run.
    public var emergencyPercent = 110
    /// Rules applied to every call when any scope in force is full enough.
    public var degrade: [DegradeRule] = []
    /// Serve repeated identical calls from the ledger's answers.
    public var cache = false
    /// How an uncalibrated model whose tokens Omega cannot count exactly is
    /// reserved: `ceil(ratio × counted) + overhead × messages` (`InputBounds`).
    public var boundRatio = 1.5
    /// Tokens added per message to a prompt bound before calibration (`[budget] bound_overhead`).
    public var boundOverhead = 32
    /// The zone calendar windows follow: the system's own unless configured
    /// (a person's "day" ends at their midnight).
    public var timeZone: TimeZone {
        get { configuredTimeZone ?? TimeZone.current }
        set { configuredTimeZone = newValue }
    }
    /// Looked up only when a window is (the system's zone takes ICU a
    /// quarter of a millisecond to find, and most runs never need it).
    private var configuredTimeZone: TimeZone?
    /// Where warnings and alerts go (the console unless `[alerts]` says more).
    public var alerts = AlertChannels()
    /// Ask the handler (or stop) when an unpriced model is called under a money budget.
    public var allowUnpriced = false
    /// Go on (with a warning) when the ledger cannot record a call; by
    /// default later calls are refused (`[ledger] on_failure`).
    public var ledgerFailOpen = false
    /// How long a reservation on a shared (PostgreSQL) ledger outlives a
    /// host that stopped renewing it, in seconds (`[ledger] lease`).
    public var ledgerLease: Double = 30

    /// No limits, the default thresholds and escalation levels.
    public init() {}

    /// The limits of a model, agent or workflow (`window` nil: since its reset).
    public func limits(_ kind: BudgetScope.Kind, _ name: String, window: BudgetScope.Kind? = nil) -> BudgetLimits? {
        if let window { return periodic[window]?[kind]?[name] }
        switch kind {
        case .model: return models[name]
        case .agent: return agents[name]
        case .workflow: return workflows[name]
        case .shared: return shared[name]
        default: return nil
        }
    }

    /// Sets (empty: removes) the limits of a model, agent or workflow.
    public mutating func setLimits(_ kind: BudgetScope.Kind, _ name: String, window: BudgetScope.Kind? = nil,
                                   _ limits: BudgetLimits) {
        let value: BudgetLimits? = limits.isEmpty ? nil : limits
        if let window {
            periodic[window, default: [:]][kind, default: [:]][name] = value
            return
        }
        switch kind {
        case .model: models[name] = value
        case .agent: agents[name] = value
        case .workflow: workflows[name] = value
        case .shared: shared[name] = value
        default: break
        }
    }
}

/// Calendar windows in a time zone: the key of the day, ISO week and month a
/// moment falls in (`2026-11-23`, `2026-W48`, `2026-11`).
public struct CalendarWindows: Sendable {
    /// The zone days, weeks and months begin in.
    public var timeZone: TimeZone

    /// A calendar in `timeZone`.
    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    private var calendar: Calendar {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = timeZone
        return c
    }

    /// The window of `kind` that holds `date`.
    public func key(_ kind: BudgetScope.Kind, at date: Date) -> String {
        let c = calendar
        switch kind {
        case .day:
            let d = c.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", d.year ?? 0, d.month ?? 0, d.day ?? 0)
        case .week:
            let d = c.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            return String(format: "%04d-W%02d", d.yearForWeekOfYear ?? 0, d.weekOfYear ?? 0)
        case .month:
            let d = c.dateComponents([.year, .month], from: date)
            return String(format: "%04d-%02d", d.year ?? 0, d.month ?? 0)
        default:
            return kind.rawValue
        }
    }

    /// The start and end of the day, ISO week or month that holds `date`.
    public func interval(_ kind: BudgetScope.Kind, at date: Date) -> DateInterval {
        let component: Calendar.Component = kind == .week ? .weekOfYear : kind == .month ? .month : .day
        return calendar.dateInterval(of: component, for: date) ?? DateInterval(start: date, duration: 86_400)
    }

    /// The day, week and month keys of `date`.
    public func keys(at date: Date) -> (day: String, week: String, month: String) {
        (key(.day, at: date), key(.week, at: date), key(.month, at: date))
    }
}
