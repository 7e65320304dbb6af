import Foundation

/// Budgets kept in the ledger rather than a configuration file: limits set by
/// `omega tokens budget` (and the REPL's `:tokens budget`), which every later
/// run that uses the ledger obeys, and resets of calendar windows
/// (`omega tokens reset`), which start a window's count again without
/// deleting a single call from the record.
extension Ledger {
    /// A limit set from the command line.
    public struct BudgetOverride: Sendable, Equatable {
        public var kind: BudgetScope.Kind
        /// The workflow, agent or model; empty for the run and calendar windows.
        public var name: String
        public var unit: BudgetUnit
        /// In the unit's internal measure (tokens, picodollars, …).
        public var amount: Int64
        public var setAt: Date

        public init(kind: BudgetScope.Kind, name: String, unit: BudgetUnit = .tokens, amount: Int64, setAt: Date = Date()) {
            self.kind = kind
            self.name = name
            self.unit = unit
            self.amount = amount
            self.setAt = setAt
        }
    }

    /// Sets (or, with `amount` nil, removes) a limit.
    public func setBudgetOverride(kind: BudgetScope.Kind, name: String, unit: BudgetUnit, amount: Int64?, at date: Date = Date()) throws {
        try locked {
            if let amount {
                _ = try db.run("""
                    INSERT INTO budget_overrides(kind, name, unit, amount, set_at) VALUES(?, ?, ?, ?, ?)
                    ON CONFLICT(kind, name, unit) DO UPDATE SET amount = excluded.amount, set_at = excluded.set_at
                    """, [.text(kind.rawValue), .text(name), .text(unit.rawValue), .int(amount), .double(date.timeIntervalSince1970)])
            } else {
                _ = try db.run("DELETE FROM budget_overrides WHERE kind = ? AND name = ? AND unit = ?",
                               [.text(kind.rawValue), .text(name), .text(unit.rawValue)])
            }
        }
    }

    /// Every limit set from the command line, oldest first.
    public func budgetOverrides() throws -> [BudgetOverride] {
        try locked {
            var result: [BudgetOverride] = []
            try db.query("SELECT kind, name, unit, amount, set_at FROM budget_overrides ORDER BY set_at") { r in
                guard let kind = r.text(0).flatMap(BudgetScope.Kind.init(rawValue:)),
                      let unit = r.text(2).flatMap(BudgetUnit.init(rawValue:)) else { return }
                result.append(BudgetOverride(kind: kind, name: r.text(1) ?? "", unit: unit, amount: r.int(3),
                                             setAt: Date(timeIntervalSince1970: r.double(4))))
            }
            return result
        }
    }

    /// A window's count started again: what it held when reset.
    public struct WindowReset: Sendable, Equatable {
        public var time: Date
        public var window: String
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
            case .workflow: workflows[o.name, default: [:]][o.unit] = o.amount
            case .agent: agents[o.name, default: [:]][o.unit] = o.amount
            case .model: models[o.name, default: [:]][o.unit] = o.amount
            case .run: run[o.unit] = o.amount
            case .day, .week, .month: windows[o.kind, default: [:]][o.unit] = o.amount
            case .scope: break   // with-budget scopes live only inside a program
            }
        }
    }
}
