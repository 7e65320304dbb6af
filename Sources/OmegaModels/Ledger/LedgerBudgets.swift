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
        // A name's windowed limit is stored under `day/agent`.
        let kindText = window.map { "\($0.rawValue)/\(kind.rawValue)" } ?? kind.rawValue
        try locked {
            if let amount {
                _ = try db.run("""
                    INSERT INTO budget_overrides(kind, name, unit, amount, set_at) VALUES(?, ?, ?, ?, ?)
                    ON CONFLICT(kind, name, unit) DO UPDATE SET amount = excluded.amount, set_at = excluded.set_at
                    """, [.text(kindText), .text(name), .text(unit.rawValue), .int(amount), .double(date.timeIntervalSince1970)])
            } else {
                _ = try db.run("DELETE FROM budget_overrides WHERE kind = ? AND name = ? AND unit = ?",
                               [.text(kindText), .text(name), .text(unit.rawValue)])
            }
        }
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
        return try locked {
            try db.immediateTransaction {
                var done: [WindowReset] = []
                for w in windows {
                    let held = try storedWindowTotal(w)
                    _ = try db.run("DELETE FROM window_totals WHERE window = ?", [.text(w)])
                    _ = try db.run("""
                        INSERT INTO resets(time, window, input_tokens, output_tokens, cost_pd, calls) VALUES(?, ?, ?, ?, ?, ?)
                        """, [.double(date.timeIntervalSince1970), .text(w), .int(held.inputTokens), .int(held.outputTokens),
                              .int(held.picodollars), .int(held.calls)])
                    done.append(WindowReset(time: date, window: w, cleared: held))
                }
                return done
            }
        }
    }

    /// A setting kept for later runs (`mode`: economy, emergency or standard), or nil.
    public func setting(_ key: String) throws -> String? {
        try locked { try db.selectSetting(key) }
    }

    /// Keeps (or with nil, removes) a setting for later runs.
    public func setSetting(_ key: String, _ value: String?, at date: Date = Date()) throws {
        try locked {
            if let value {
                _ = try db.run("INSERT OR REPLACE INTO settings(key, value, set_at) VALUES (?, ?, ?)",
                               [.text(key), .text(value), .double(date.timeIntervalSince1970)])
            } else {
                _ = try db.run("DELETE FROM settings WHERE key = ?", [.text(key)])
            }
        }
    }

    /// Every counter the ledger keeps (`total`, `day:…`, `agent:…`, `day:…/agent:…`).
    public func counterKeys() throws -> [String] {
        try flush()
        return try locked {
            var keys: [String] = []
            try db.query("SELECT window FROM window_totals ORDER BY window") { r in if let k = r.text(0) { keys.append(k) } }
            return keys
        }
    }

    /// The counters a reset of `what` clears at `now`'s windows: `period`
    /// `.total` (counts since the last reset), `.day`, `.week`, `.month` (the
    /// current window), or nil for both; `kind` and `name` narrow it to one
    /// model, agent or workflow. Without a name, `.total` is seed 002's
    /// tracker reset (the total and every name's count), a window starts
    /// again for everyone.
    public func countersToReset(period: BudgetScope.Kind?, kind: BudgetScope.Kind?, name: String?,
                                keys: (day: String, week: String, month: String)) throws -> [String] {
        let windows = ["day:" + keys.day, "week:" + keys.week, "month:" + keys.month]
        let chosenWindows: [String]
        switch period {
        case .day?: chosenWindows = [windows[0]]
        case .week?: chosenWindows = [windows[1]]
        case .month?: chosenWindows = [windows[2]]
        case .total?: chosenWindows = []
        default: chosenWindows = windows
        }
        let sinceReset = period == nil || period == .total
        if let kind, let name {
            let own = "\(kind.rawValue):\(name)"
            return (sinceReset ? [own] : []) + chosenWindows.map { $0 + "/" + own }
        }
        let existing = try counterKeys()
        var result: [String] = []
        if sinceReset {
            result.append("total")
            result += existing.filter { k in !k.contains("/") && ["model:", "agent:", "workflow:", "shared:"].contains { k.hasPrefix($0) } }
        }
        for w in chosenWindows {
            result.append(w)
            result += existing.filter { $0.hasPrefix(w + "/") }
        }
        return result
    }

    /// The latest reset of a window, if any.
    public func lastReset(of window: String) throws -> WindowReset? {
        try locked {
            var found: WindowReset?
            try db.query("""
                SELECT time, input_tokens, output_tokens, cost_pd, calls FROM resets WHERE window = ? ORDER BY time DESC LIMIT 1
                """, [.text(window)]) { r in
                found = WindowReset(time: Date(timeIntervalSince1970: r.double(0)), window: window,
                                    cleared: Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(4)))
            }
            return found
        }
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
