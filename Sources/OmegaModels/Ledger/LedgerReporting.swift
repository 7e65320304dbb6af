import Foundation
import OmegaCore

/// What reports and the budget tools (`omega tokens status|budget|reset|
/// report|mode`, the REPL's `:tokens`) read and write beyond what the meter
/// needs: sums over calls, alerts, limits and resets kept in the ledger. The
/// SQLite ledger and the PostgreSQL ledger both offer it; the statements are
/// written once (`LedgerSQL` below), each store adds its lock and its
/// transactions.
public protocol LedgerReporting: LedgerStore {
    /// What the calls in a time range were charged.
    func totals(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts
    /// Warnings and alerts raised in a time range.
    func alerts(from: Date, to: Date) throws -> [Ledger.Alert]
    /// Usage of the calls in a time range, grouped by `columns` (`Ledger.groupColumns`).
    func usageSums(from: Date, to: Date, by columns: [String], providerAnsweredOnly: Bool,
                   backends: Ledger.Backends) throws -> [Ledger.UsageSum]
    /// Calls that repeated an earlier request of the range and were answered again.
    func repeatedRequests(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts
    /// The workflow of the latest call in a time range that had one.
    func latestWorkflow(from: Date, to: Date) throws -> String?
    /// Sets (or, with `amount` nil, removes) a limit later runs obey.
    func setBudgetOverride(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind?, unit: BudgetUnit,
                           amount: Int64?, at date: Date) throws
    /// Starts the counts of `windows` again, recording what they held.
    func resetWindows(_ windows: [String], at date: Date) throws -> [Ledger.WindowReset]
    /// Keeps (or with nil, removes) a setting for later runs.
    func setSetting(_ key: String, _ value: String?, at date: Date) throws
    /// Every counter the ledger keeps.
    func counterKeys() throws -> [String]
    /// The latest reset of a counter, if any.
    func lastReset(of window: String) throws -> Ledger.WindowReset?
}

extension LedgerReporting {
    /// Totals of every call in the range.
    public func totals(from: Date, to: Date) throws -> Amounts { try totals(from: from, to: to, backends: .all) }
    /// Usage of the calls in the range (cache hits included), grouped by `columns`.
    public func usageSums(from: Date, to: Date, by columns: [String], backends: Ledger.Backends = .all) throws -> [Ledger.UsageSum] {
        try usageSums(from: from, to: to, by: columns, providerAnsweredOnly: false, backends: backends)
    }
    /// A limit set now.
    public func setBudgetOverride(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind? = nil, unit: BudgetUnit,
                                  amount: Int64?) throws {
        try setBudgetOverride(kind: kind, name: name, window: window, unit: unit, amount: amount, at: Date())
    }
    /// Counters reset now.
    @discardableResult
    public func resetWindows(_ windows: [String]) throws -> [Ledger.WindowReset] { try resetWindows(windows, at: Date()) }
    /// A setting kept now.
    public func setSetting(_ key: String, _ value: String?) throws { try setSetting(key, value, at: Date()) }

    /// The counters a reset of `what` clears at `now`'s windows: `period`
    /// `.total` (counts since the last reset), `.day`, `.week`, `.month` (the
    /// current window), or nil for both; `kind` and `name` narrow it to one
    /// model, agent, workflow or shared budget. Without a name, `.total` is
    /// seed 002's tracker reset (the total and every name's count), a window
    /// starts again for everyone.
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
}

/// The reporting statements, written once for both databases. A counter's
/// key is in column `window` in SQLite and `window_key` in PostgreSQL
/// (where `window` is a reserved word): `counterColumn`.
extension LedgerSQL {
    private static func range(_ from: Date, _ to: Date) -> [SQLiteDatabase.Binding] {
        [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)]
    }

    func selectTotals(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts {
        var a = Amounts()
        try query("""
            SELECT COALESCE(SUM(charged_input),0), COALESCE(SUM(charged_output),0), COALESCE(SUM(charged_pd),0), COUNT(*)
            FROM calls WHERE time >= ? AND time < ? \(backends.clause)
            """, Self.range(from, to)) { r in
            a = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
        }
        return a
    }

    func selectAlerts(from: Date, to: Date) throws -> [Ledger.Alert] {
        try selectAlerts("WHERE time >= ? AND time < ? ORDER BY time, id", Self.range(from, to))
    }

    func selectUsageSums(from: Date, to: Date, by columns: [String], providerAnsweredOnly: Bool,
                         backends: Ledger.Backends) throws -> [Ledger.UsageSum] {
        for c in columns where !Ledger.groupColumns.contains(c) { throw LedgerError("cannot group calls by '\(c)'") }
        let sums = ["SUM(input_tokens)", "SUM(output_tokens)", "SUM(cached_tokens)", "SUM(cache_write_tokens)",
                    "SUM(reasoning_tokens)", "SUM(charged_input)", "SUM(charged_output)", "SUM(charged_pd)", "COUNT(*)",
                    "SUM(CASE WHEN cost_pd IS NULL AND cache_hit = 0 AND outcome = 'ok' THEN 1 ELSE 0 END)"]
        let select = (columns + sums).joined(separator: ", ")
        let group = columns.isEmpty ? "" : "GROUP BY " + columns.joined(separator: ", ")
        var result: [Ledger.UsageSum] = []
        try query("""
            SELECT \(select) FROM calls
            WHERE time >= ? AND time < ? \(providerAnsweredOnly ? "AND cache_hit = 0" : "") \(backends.clause) \(group)
            """, Self.range(from, to)) { r in
            let n = Int32(columns.count)
            result.append(Ledger.UsageSum(
                keys: (0..<n).map { r.text($0) },
                usage: TokenUsage(inputTokens: Int(r.int(n)), outputTokens: Int(r.int(n + 1)), cacheReadTokens: Int(r.int(n + 2)),
                                  cacheWriteTokens: Int(r.int(n + 3)), reasoningTokens: Int(r.int(n + 4))),
                charged: Amounts(inputTokens: r.int(n + 5), outputTokens: r.int(n + 6), picodollars: r.int(n + 7), calls: r.int(n + 8)),
                unpricedCalls: r.int(n + 9)))
        }
        return result.filter { $0.charged.calls > 0 }
    }

    func selectRepeatedRequests(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts {
        var a = Amounts()
        try query("""
            SELECT COUNT(*), COALESCE(SUM(ci), 0), COALESCE(SUM(co), 0), COALESCE(SUM(pd), 0) FROM (
              SELECT charged_input AS ci, charged_output AS co, charged_pd AS pd,
                     ROW_NUMBER() OVER (PARTITION BY request_key ORDER BY id) AS n
              FROM calls WHERE time >= ? AND time < ? AND cache_hit = 0 AND outcome = 'ok' AND request_key != '' \(backends.clause)) AS repeated
            WHERE n > 1
            """, Self.range(from, to)) { r in
            a = Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(0))
        }
        return a
    }

    func selectLatestWorkflow(from: Date, to: Date) throws -> String? {
        var name: String?
        try query("SELECT workflow FROM calls WHERE time >= ? AND time < ? AND workflow IS NOT NULL ORDER BY id DESC LIMIT 1",
                  Self.range(from, to)) { r in name = r.text(0) }
        return name
    }

    func writeBudgetOverride(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind?, unit: BudgetUnit,
                             amount: Int64?, at date: Date) throws {
        // A name's windowed limit is stored under `day/agent`.
        let kindText = window.map { "\($0.rawValue)/\(kind.rawValue)" } ?? kind.rawValue
        if let amount {
            try run("""
                INSERT INTO budget_overrides(kind, name, unit, amount, set_at) VALUES(?, ?, ?, ?, ?)
                ON CONFLICT(kind, name, unit) DO UPDATE SET amount = excluded.amount, set_at = excluded.set_at
                """, [.text(kindText), .text(name), .text(unit.rawValue), .int(amount), .double(date.timeIntervalSince1970)])
        } else {
            try run("DELETE FROM budget_overrides WHERE kind = ? AND name = ? AND unit = ?",
                    [.text(kindText), .text(name), .text(unit.rawValue)])
        }
    }

    /// Clears each counter and records what it held (callers hold a transaction).
    func clearCounters(_ windows: [String], at date: Date) throws -> [Ledger.WindowReset] {
        var done: [Ledger.WindowReset] = []
        for w in windows {
            var held = Amounts()
            try query("SELECT input_tokens, output_tokens, cost_pd, calls FROM window_totals WHERE \(counterColumn) = ?", [.text(w)]) { r in
                held = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
            }
            try run("DELETE FROM window_totals WHERE \(counterColumn) = ?", [.text(w)])
            try run("INSERT INTO resets(time, \(counterColumn), input_tokens, output_tokens, cost_pd, calls) VALUES(?, ?, ?, ?, ?, ?)",
                    [.double(date.timeIntervalSince1970), .text(w), .int(held.inputTokens), .int(held.outputTokens),
                     .int(held.picodollars), .int(held.calls)])
            done.append(Ledger.WindowReset(time: date, window: w, cleared: held))
        }
        return done
    }

    func writeSetting(_ key: String, _ value: String?, at date: Date) throws {
        if let value {
            try run("""
                INSERT INTO settings(key, value, set_at) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at
                """, [.text(key), .text(value), .double(date.timeIntervalSince1970)])
        } else {
            try run("DELETE FROM settings WHERE key = ?", [.text(key)])
        }
    }

    func selectCounterKeys() throws -> [String] {
        var keys: [String] = []
        try query("SELECT \(counterColumn) FROM window_totals ORDER BY \(counterColumn)", []) { r in
            if let k = r.text(0) { keys.append(k) }
        }
        return keys
    }

    func selectLastReset(of window: String) throws -> Ledger.WindowReset? {
        var found: Ledger.WindowReset?
        try query("""
            SELECT time, input_tokens, output_tokens, cost_pd, calls FROM resets WHERE \(counterColumn) = ? ORDER BY time DESC LIMIT 1
            """, [.text(window)]) { r in
            found = Ledger.WindowReset(time: Date(timeIntervalSince1970: r.double(0)), window: window,
                                       cleared: Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(4)))
        }
        return found
    }
}

extension PostgresLedger: LedgerReporting {
    public func totals(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts {
        try locked { try db.selectTotals(from: from, to: to, backends: backends) }
    }
    public func alerts(from: Date, to: Date) throws -> [Ledger.Alert] {
        try locked { try db.selectAlerts(from: from, to: to) }
    }
    public func usageSums(from: Date, to: Date, by columns: [String], providerAnsweredOnly: Bool,
                          backends: Ledger.Backends) throws -> [Ledger.UsageSum] {
        try locked { try db.selectUsageSums(from: from, to: to, by: columns, providerAnsweredOnly: providerAnsweredOnly, backends: backends) }
    }
    public func repeatedRequests(from: Date, to: Date, backends: Ledger.Backends) throws -> Amounts {
        try locked { try db.selectRepeatedRequests(from: from, to: to, backends: backends) }
    }
    public func latestWorkflow(from: Date, to: Date) throws -> String? {
        try locked { try db.selectLatestWorkflow(from: from, to: to) }
    }
    public func setBudgetOverride(kind: BudgetScope.Kind, name: String, window: BudgetScope.Kind?, unit: BudgetUnit,
                                  amount: Int64?, at date: Date) throws {
        try locked { try db.writeBudgetOverride(kind: kind, name: name, window: window, unit: unit, amount: amount, at: date) }
    }
    /// Resets under the counters' row locks, so that no reservation of
    /// another host checks a counter halfway through its reset.
    public func resetWindows(_ windows: [String], at date: Date) throws -> [Ledger.WindowReset] {
        try locked {
            try db.transaction {
                let keys = windows.sorted()
                if !keys.isEmpty {
                    let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
                    try db.query("SELECT window_key FROM window_totals WHERE window_key IN (\(marks)) ORDER BY window_key FOR UPDATE",
                                 keys.map { .text($0) }) { _ in }
                }
                return try db.clearCounters(windows, at: date)
            }
        }
    }
    public func setSetting(_ key: String, _ value: String?, at date: Date) throws {
        try locked { try db.writeSetting(key, value, at: date) }
    }
    public func counterKeys() throws -> [String] {
        try locked { try db.selectCounterKeys() }
    }
    public func lastReset(of window: String) throws -> Ledger.WindowReset? {
        try locked { try db.selectLastReset(of: window) }
    }
}
