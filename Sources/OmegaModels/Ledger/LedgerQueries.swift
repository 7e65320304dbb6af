import Foundation

/// A row of a query result, read by column index (SQLite's and PostgreSQL's
/// alike): a value of another type than asked reads as 0 or nil.
protocol LedgerRow {
    func int(_ i: Int32) -> Int64
    func double(_ i: Int32) -> Double
    func text(_ i: Int32) -> String?
    func isNull(_ i: Int32) -> Bool
}

/// The statement surface both ledger databases offer (`SQLiteDatabase`,
/// `PostgresSQL`), so that the ledger's queries are written once.
protocol LedgerSQL: AnyObject {
    associatedtype Row: LedgerRow
    /// The column of `window_totals` (and `resets`) holding a counter's key.
    var counterColumn: String { get }
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteDatabase.Binding]) throws -> Int
    func query(_ sql: String, _ values: [SQLiteDatabase.Binding], _ each: (Row) throws -> Void) throws
}

extension SQLiteDatabase.Row: LedgerRow {}
extension SQLiteDatabase: LedgerSQL {
    var counterColumn: String { "window" }
}
extension PostgresSQL.Row: LedgerRow {}
extension PostgresSQL: LedgerSQL {
    var counterColumn: String { "window_key" }
}

/// The queries every ledger store shares.
extension LedgerSQL {
    /// Inserts a settled call.
    func insertCall(_ c: Ledger.Call) throws {
        try run("""
            INSERT INTO calls(time, run_id, seq, script, model, backend, agent, workflow, operation,
              input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pd, latency,
              cache_hit, outcome, usage_source, request_id, request_key, answer, finish_reason, day, week, month,
              charged_input, charged_output, charged_pd, charged_calls, served_model, shared)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.double(c.time.timeIntervalSince1970), .text(c.runID), .int(Int64(c.sequence)), .text(c.script),
                  .text(c.model), .text(c.backend), c.agent.map { .text($0) } ?? .null, c.workflow.map { .text($0) } ?? .null,
                  .text(c.operation), .int(Int64(c.usage.inputTokens)), .int(Int64(c.usage.outputTokens)),
                  .int(Int64(c.usage.cacheReadTokens)), .int(Int64(c.usage.cacheWriteTokens)),
                  .int(Int64(c.usage.reasoningTokens)), c.cost.map { .int($0.picodollars) } ?? .null,
                  .double(c.latency), .int(c.cacheHit ? 1 : 0), .text(c.outcome), .text(c.usageSource),
                  .text(c.requestID), .text(c.requestKey), c.answer.map { .text($0) } ?? .null,
                  c.finishReason.map { .text($0) } ?? .null, .text(c.day), .text(c.week), .text(c.month),
                  .int(c.charged.inputTokens), .int(c.charged.outputTokens), .int(c.charged.picodollars),
                  .int(c.charged.calls), c.servedModel.map { .text($0) } ?? .null,
                  c.shared.isEmpty ? .null : .text(c.shared.joined(separator: "\n"))])
    }

    /// Inserts an alert.
    func insertAlert(_ a: Ledger.Alert) throws {
        try run("INSERT INTO alerts(time, run_id, kind, scope, message) VALUES (?, ?, ?, ?, ?)",
                [.double(a.time.timeIntervalSince1970), .text(a.runID), .text(a.kind), .text(a.scope), .text(a.message)])
    }

    /// Alerts matching `clause` (`WHERE … ORDER BY …`).
    func selectAlerts(_ clause: String, _ values: [SQLiteDatabase.Binding]) throws -> [Ledger.Alert] {
        var result: [Ledger.Alert] = []
        try query("SELECT time, run_id, kind, scope, message FROM alerts \(clause)", values) { r in
            result.append(Ledger.Alert(time: Date(timeIntervalSince1970: r.double(0)), runID: r.text(1) ?? "",
                                       kind: r.text(2) ?? "", scope: r.text(3) ?? "", message: r.text(4) ?? ""))
        }
        return result
    }

    /// Inserts a completed task.
    func insertTask(_ t: Ledger.TaskRecord) throws {
        try run("INSERT INTO tasks(time, run_id, kind, task, size, tokens, cost_pd, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [.double(t.time.timeIntervalSince1970), .text(t.runID), .text(t.kind), .text(t.task),
                 t.size.map { .double($0) } ?? .null, .int(t.tokens), .int(t.cost.picodollars), .double(t.seconds)])
    }

    /// Completed tasks of a kind, oldest first.
    func selectTasks(kind: String) throws -> [Ledger.TaskRecord] {
        var result: [Ledger.TaskRecord] = []
        try query("SELECT time, run_id, kind, task, size, tokens, cost_pd, seconds FROM tasks WHERE kind = ? ORDER BY id",
                  [.text(kind)]) { r in
            result.append(Ledger.TaskRecord(time: Date(timeIntervalSince1970: r.double(0)), runID: r.text(1) ?? "",
                                            kind: r.text(2) ?? "", task: r.text(3) ?? "", size: r.isNull(4) ? nil : r.double(4),
                                            tokens: r.int(5), cost: Money(picodollars: r.int(6)), seconds: r.double(7)))
        }
        return result
    }

    /// The counters whose key (in column `column`) starts with `prefix`.
    func selectCounters(prefix: String, column: String) throws -> [String: Amounts] {
        var result: [String: Amounts] = [:]
        // A prefix match without LIKE's wildcards (`_` and `%` may be in names).
        try query("SELECT \(column), input_tokens, output_tokens, cost_pd, calls FROM window_totals WHERE substr(\(column), 1, ?) = ?",
                  [.int(Int64(prefix.count)), .text(prefix)]) { r in
            result[r.text(0) ?? ""] = Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(4))
        }
        return result
    }

    /// Calls matching `clause` (`WHERE … ORDER BY …`).
    func selectCalls(_ clause: String, _ values: [SQLiteDatabase.Binding]) throws -> [Ledger.Call] {
        var result: [Ledger.Call] = []
        try query("""
            SELECT time, run_id, seq, script, model, backend, agent, workflow, operation, input_tokens, output_tokens,
              cached_tokens, cache_write_tokens, reasoning_tokens, cost_pd, latency, cache_hit, outcome, usage_source,
              request_id, request_key, answer, finish_reason, day, week, month,
              charged_input, charged_output, charged_pd, charged_calls, served_model, shared
            FROM calls \(clause)
            """, values) { r in
            result.append(Ledger.Call(
                time: Date(timeIntervalSince1970: r.double(0)), runID: r.text(1) ?? "", sequence: Int(r.int(2)),
                script: r.text(3) ?? "", model: r.text(4) ?? "", backend: r.text(5) ?? "", agent: r.text(6),
                workflow: r.text(7), operation: r.text(8) ?? "",
                usage: TokenUsage(inputTokens: Int(r.int(9)), outputTokens: Int(r.int(10)), cacheReadTokens: Int(r.int(11)),
                                  cacheWriteTokens: Int(r.int(12)), reasoningTokens: Int(r.int(13))),
                cost: r.isNull(14) ? nil : Money(picodollars: r.int(14)), latency: r.double(15), cacheHit: r.int(16) != 0,
                outcome: r.text(17) ?? "", usageSource: r.text(18) ?? "", requestID: r.text(19) ?? "",
                requestKey: r.text(20) ?? "", answer: r.text(21), finishReason: r.text(22), day: r.text(23) ?? "",
                week: r.text(24) ?? "", month: r.text(25) ?? "",
                charged: Amounts(inputTokens: r.int(26), outputTokens: r.int(27), picodollars: r.int(28), calls: r.int(29)),
                servedModel: r.text(30), shared: (r.text(31) ?? "").split(separator: "\n").map(String.init)))
        }
        return result
    }

    /// The limits set with `omega tokens budget`, oldest first.
    func selectBudgetOverrides() throws -> [Ledger.BudgetOverride] {
        var result: [Ledger.BudgetOverride] = []
        try query("SELECT kind, name, unit, amount, set_at FROM budget_overrides ORDER BY set_at", []) { r in
            let parts = (r.text(0) ?? "").split(separator: "/").map(String.init)
            guard let kind = parts.last.flatMap(BudgetScope.Kind.init(rawValue:)),
                  let unit = r.text(2).flatMap(BudgetUnit.init(rawValue:)) else { return }
            let window = parts.count == 2 ? BudgetScope.Kind(rawValue: parts[0]) : nil
            result.append(Ledger.BudgetOverride(kind: kind, name: r.text(1) ?? "", window: window, unit: unit, amount: r.int(3),
                                                setAt: Date(timeIntervalSince1970: r.double(4))))
        }
        return result
    }

    /// A run by id, or the latest whose id starts with it.
    func selectRun(_ id: String) throws -> Ledger.Run? {
        var found: Ledger.Run?
        try query("""
            SELECT id, script, started, ended, outcome, input_tokens, output_tokens, cost_pd, calls, resumed_from
            FROM runs WHERE id = ? OR id LIKE ? ORDER BY (id = ?) DESC, started DESC LIMIT 1
            """, [.text(id), .text(id + "%"), .text(id)]) { r in
            found = Ledger.Run(id: r.text(0) ?? "", script: r.text(1) ?? "", started: Date(timeIntervalSince1970: r.double(2)),
                               ended: r.isNull(3) ? nil : Date(timeIntervalSince1970: r.double(3)), outcome: r.text(4) ?? "",
                               totals: Amounts(inputTokens: r.int(5), outputTokens: r.int(6), picodollars: r.int(7), calls: r.int(8)),
                               resumedFrom: r.text(9))
        }
        return found
    }

    /// A kept setting, or nil.
    func selectSetting(_ key: String) throws -> String? {
        var value: String?
        try query("SELECT value FROM settings WHERE key = ?", [.text(key)]) { value = $0.text(0) }
        return value
    }

    /// The stored calibration of `backend` and `model`, if any.
    func selectCalibration(backend: String, model: String) throws -> InputBounds.Calibration? {
        var found: InputBounds.Calibration?
        try query("SELECT ratio, residual, ratio_residual, observations FROM calibrations WHERE backend = ? AND model = ?",
                  [.text(backend), .text(model)]) { r in
            found = InputBounds.Calibration(ratio: r.double(0), residual: Int(r.int(1)), ratioResidual: Int(r.int(2)),
                                            observations: Int(r.int(3)))
        }
        return found
    }

    /// Stores a calibration. Several processes (or hosts) may learn at once:
    /// each figure keeps the larger value, so a bound only ever grows here.
    /// (`CASE`, not `max`/`GREATEST`: one statement for both databases.)
    func upsertCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date) throws {
        func larger(_ column: String) -> String {
            "\(column) = CASE WHEN excluded.\(column) > calibrations.\(column) THEN excluded.\(column) ELSE calibrations.\(column) END"
        }
        try run("""
            INSERT INTO calibrations(backend, model, ratio, residual, ratio_residual, observations, updated)
            VALUES(?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(backend, model) DO UPDATE SET
              \(["ratio", "residual", "ratio_residual", "observations"].map(larger).joined(separator: ", ")),
              updated = excluded.updated
            """, [.text(backend), .text(model), .double(c.ratio), .int(Int64(c.residual)), .int(Int64(c.ratioResidual)),
                  .int(Int64(c.observations)), .double(date.timeIntervalSince1970)])
    }
}
