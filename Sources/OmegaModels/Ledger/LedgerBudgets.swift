import Foundation
import OmegaCore

/// Budgets kept in the ledger rather than a configuration file: limits set by
/// `omega tokens budget` (and the REPL's `:tokens budget`), which every later
/// run that uses the ledger obeys, and resets of calendar windows
/// (`omega tokens reset`), which start a window's count again without
/// deleting a single call from the record.
extension Ledger {
    /// A limit set from the command line.
    public struct BudgetOverride: Sendable, Equatable {
        /// Which limit: the run, the total, a window, or a model's, agent's or workflow's.
        public var kind: BudgetScope.Kind
        /// The workflow, agent or model; empty for the run, the total and calendar windows.
        public var name: String
        /// For a workflow's, agent's or model's limit within each day, week or month.
        public var window: BudgetScope.Kind? = nil
        /// The unit of `amount`.
        public var unit: BudgetUnit
        /// In the unit's internal measure (tokens, picodollars, …).
        public var amount: Int64
        /// When it was set.
        public var setAt: Date

        /// A limit as `omega tokens budget` sets it.
        public init(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind? = nil, unit: BudgetUnit = .tokens,
                    amount: Int64, setAt: Date = Date()) {
            self.kind = kind
            self.window = window
            self.name = name
            self.unit = unit
            self.amount = amount
            self.setAt = setAt
        }
    }

    /// Sets (or, with `amount` nil, removes) a limit (`window`: a name's limit within each day, week or month).
    public func setBudgetOverride(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind? = nil, unit: BudgetUnit,
                                  amount: Int64?, at date: Date = Date()) throws {
        try locked { try db.writeBudgetOverride(kind: kind, name: name, window: window, unit: unit, amount: amount, at: date) }
    }

    /// Every limit set from the command line, oldest first.
    public func budgetOverrides() throws -> [BudgetOverride] {
        try locked {
            try db.selectBudgetOverrides()
        }
    }

    /// A window's count started again: what it held when reset.
    public struct WindowReset: Sendable, Equatable {
        /// When the count was started again.
        public var time: Date
        /// The counter (`total`, `day:2026-11-29` …).
        public var window: String
        /// What it held.
        public var cleared: Amounts
    }

    /// Starts the counts of `windows` (`day:2026-11-23`, …) again: their
    /// settled totals become zero, and the reset is recorded with what they
    /// held. Calls stay in the ledger; reports still show them.
    @discardableResult
    public func resetWindows(_ windows: [String], at date: Date = Date()) throws -> [WindowReset] {
        try flush()
        return try locked { try db.immediateTransaction { try db.clearCounters(windows, at: date) } }
    }

    /// A setting kept for later runs (`mode`: economy, emergency or standard), or nil.
    public func setting(_ key: String) throws -> String? {
        try locked { try db.selectSetting(key) }
    }

    /// Keeps (or with nil, removes) a setting for later runs.
    public func setSetting(_ key: String, _ value: String?, at date: Date = Date()) throws {
        try locked { try db.writeSetting(key, value, at: date) }
    }

    /// Every counter the ledger keeps (`total`, `day:…`, `agent:…`, `day:…/agent:…`).
    public func counterKeys() throws -> [String] {
        try flush()
        return try locked { try db.selectCounterKeys() }
    }

    /// The latest reset of a window, if any.
    public func lastReset(of window: String) throws -> WindowReset? {
        try locked { try db.selectLastReset(of: window) }
    }
}

extension BudgetPolicy {
    /// The policy with the ledger's command-line limits laid over it (they
    /// were set later than the file was written, so they win over it).
    public mutating func apply(_ overrides: [Ledger.BudgetOverride]) {
        for o in overrides {
            switch o.kind {
            case .workflow, .agent, .model, .shared:
                var l = limits(o.kind, o.name, window: o.window) ?? [:]
                l[o.unit] = o.amount
                setLimits(o.kind, o.name, window: o.window, l)
            case .run: run[o.unit] = o.amount
            case .total: total[o.unit] = o.amount
            case .day, .week, .month: windows[o.kind, default: [:]][o.unit] = o.amount
            case .scope: break   // with-budget scopes live only inside a program
            }
        }
    }
}
