import Foundation

/// The ledger on a PostgreSQL server (`--ledger postgres://USER@HOST/DB`):
/// the `LedgerStore` the meter uses when budgets are shared by processes on
/// many hosts. The calls, runs and counters are the SQLite ledger's tables
/// (the queries on calls are the same code, `LedgerQueries`).
///
/// Atomicity across hosts: a reservation locks the counter rows of every
/// budget the call falls under (`SELECT … FOR UPDATE`, in key order, so two
/// hosts never deadlock), checks settled spend plus reservations against
/// the limits, and inserts its reservation before it commits; a settle
/// updates the same rows and deletes the reservation in one transaction. A
/// settled call is committed before `record` returns (no spool: the server's
/// commit is the durability).
///
/// A host that dies holding reservations: every reservation carries a
/// lease its holder renews (`PostgresLeases.swift` has the rule).
public final class PostgresLedger: LedgerStore, @unchecked Sendable {  // `db` is used under `lock`
    let db: PostgresSQL
    let lock = NSRecursiveLock()
    /// How long a reservation stays valid without renewal, in seconds.
    public let lease: Double
    /// This store's name on its reservations (leases are renewed per owner).
    let owner = UUID().uuidString
    /// Reservations this store holds, and when expired ones were last looked for.
    var held = 0
    var lastSweep = 0.0
    var closed = false
    /// The server, password masked.
    public var path: String { db.url }
    /// Nothing is found while opening that would be a warning.
    public var warnings: [String] { [] }

    /// Connects to `url` and creates or migrates the schema. `lease`: how
    /// long this store's reservations stay valid unless renewed (they are
    /// renewed every third of it while the process lives).
    public init(url: String, timeout: Double = 10, lease: Double = 30) throws {
        db = try PostgresSQL(url: url, timeout: timeout)
        self.lease = max(lease, 0.2)
        try migrate()
        startRenewing()
    }

    /// The schema, one migration per version (the SQLite ledger's tables, in
    /// PostgreSQL's types; `window` is a reserved word here, so the counter
    /// column is `window_key`).
    static let migrations: [String] = [
        """
        CREATE TABLE runs(
          id TEXT PRIMARY KEY, script TEXT NOT NULL, started DOUBLE PRECISION NOT NULL, ended DOUBLE PRECISION,
          pid BIGINT, host TEXT, outcome TEXT NOT NULL, input_tokens BIGINT NOT NULL DEFAULT 0,
          output_tokens BIGINT NOT NULL DEFAULT 0, cost_pd BIGINT NOT NULL DEFAULT 0, calls BIGINT NOT NULL DEFAULT 0,
          resumed_from TEXT);
        CREATE TABLE calls(
          id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, run_id TEXT NOT NULL, seq BIGINT NOT NULL,
          script TEXT NOT NULL, model TEXT NOT NULL, backend TEXT NOT NULL, agent TEXT, workflow TEXT,
          operation TEXT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
          cached_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
          cost_pd BIGINT, latency DOUBLE PRECISION NOT NULL, cache_hit BIGINT NOT NULL, outcome TEXT NOT NULL,
          usage_source TEXT NOT NULL, request_id TEXT NOT NULL, request_key TEXT NOT NULL, answer TEXT,
          finish_reason TEXT, day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL,
          charged_input BIGINT NOT NULL, charged_output BIGINT NOT NULL, charged_pd BIGINT NOT NULL,
          charged_calls BIGINT NOT NULL, served_model TEXT);
        CREATE INDEX calls_run ON calls(run_id, seq);
        CREATE TABLE window_totals(
          window_key TEXT PRIMARY KEY, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
          cost_pd BIGINT NOT NULL, calls BIGINT NOT NULL);
        CREATE TABLE reservations(
          id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, host TEXT NOT NULL, pid BIGINT NOT NULL,
          input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cost_pd BIGINT NOT NULL,
          created DOUBLE PRECISION NOT NULL, counters TEXT NOT NULL);
        CREATE TABLE answers(request_key TEXT PRIMARY KEY, call_id BIGINT NOT NULL);
        CREATE TABLE alerts(
          id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL,
          scope TEXT NOT NULL, message TEXT NOT NULL);
        CREATE TABLE tasks(
          id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL,
          task TEXT NOT NULL, size DOUBLE PRECISION, tokens BIGINT NOT NULL, cost_pd BIGINT NOT NULL,
          seconds DOUBLE PRECISION NOT NULL);
        CREATE TABLE budget_overrides(
          kind TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL, amount BIGINT NOT NULL,
          set_at DOUBLE PRECISION NOT NULL, PRIMARY KEY(kind, name, unit));
        CREATE TABLE calibrations(
          backend TEXT NOT NULL, model TEXT NOT NULL, ratio DOUBLE PRECISION NOT NULL, residual BIGINT NOT NULL,
          ratio_residual BIGINT NOT NULL, observations BIGINT NOT NULL, updated DOUBLE PRECISION NOT NULL,
          PRIMARY KEY(backend, model));
        CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, set_at DOUBLE PRECISION NOT NULL);
        """,
        // 2: leases on reservations, and the worst-case charges of expired ones.
        """
        ALTER TABLE reservations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        ALTER TABLE reservations ADD COLUMN lease_until DOUBLE PRECISION NOT NULL DEFAULT 0;
        CREATE INDEX reservations_lease ON reservations(lease_until);
        CREATE TABLE lease_expiries(
          reservation_id BIGINT PRIMARY KEY, call_id BIGINT NOT NULL, expired DOUBLE PRECISION NOT NULL);
        """,
        // 3: the shared budgets a call was charged to (names, one per line);
        // counts started again (`omega tokens reset`).
        """
        ALTER TABLE calls ADD COLUMN shared TEXT;
        CREATE TABLE resets(
          id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, window_key TEXT NOT NULL, input_tokens BIGINT NOT NULL,
          output_tokens BIGINT NOT NULL, cost_pd BIGINT NOT NULL, calls BIGINT NOT NULL);
        """,
    ]

    /// Runs the migrations not yet run, under an advisory lock so that
    /// processes on several hosts opening a new database run each once.
    private func migrate() throws {
        try db.execute("SELECT pg_advisory_lock(73206547)")
        defer { try? db.execute("SELECT pg_advisory_unlock(73206547)") }
        try db.execute("CREATE TABLE IF NOT EXISTS omega_schema(version BIGINT NOT NULL)")
        var version: Int64 = -1
        try db.query("SELECT version FROM omega_schema", []) { r in version = r.int(0) }
        if version < 0 {
            try db.run("INSERT INTO omega_schema(version) VALUES (0)", [])
            version = 0
        }
        guard version <= Int64(PostgresLedger.migrations.count) else {
            throw LedgerError("the ledger \(db.url) has schema version \(version), newer than this omega understands (\(PostgresLedger.migrations.count)); upgrade omega")
        }
        for v in Int(version)..<PostgresLedger.migrations.count {
            try db.transaction {
                try db.execute(PostgresLedger.migrations[v])
                try db.run("UPDATE omega_schema SET version = ?", [.int(Int64(v + 1))])
            }
        }
    }

    @discardableResult
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static let host = ProcessInfo.processInfo.hostName

    // MARK: Reservations and settles

    public func reserve(_ amount: Amounts, windows: [(key: String, limits: BudgetLimits)], covering: [String],
                        day: String, week: String, month: String, runID: String,
                        check: Bool) throws -> (id: Int64, totals: [String: Amounts]) {
        let outcome: Result<(id: Int64, totals: [String: Amounts]), Ledger.WindowRefusal> = try locked {
            try sweepExpiredLeases()
            return try db.transaction {
                // Every counter this call touches, created if new and locked
                // in key order: three statements however many budgets apply.
                let keys = Set(covering).union(windows.map(\.key)).sorted()
                var settled: [String: Amounts] = [:]
                if !keys.isEmpty {
                    let rows = Array(repeating: "(?, 0, 0, 0, 0)", count: keys.count).joined(separator: ", ")
                    let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
                    try db.run("INSERT INTO window_totals(window_key, input_tokens, output_tokens, cost_pd, calls) VALUES \(rows) ON CONFLICT (window_key) DO NOTHING",
                               keys.map { .text($0) })
                    try db.query("SELECT window_key, input_tokens, output_tokens, cost_pd, calls FROM window_totals WHERE window_key IN (\(marks)) ORDER BY window_key FOR UPDATE",
                                 keys.map { .text($0) }) { r in
                        settled[r.text(0) ?? ""] = Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(4))
                    }
                }
                let checked = check ? windows.map(\.key) : []
                let reserved = try reservedOn(checked)
                var totals: [String: Amounts] = [:]
                for (key, limits) in windows {
                    let used = settled[key] ?? Amounts()
                    totals[key] = used
                    guard check else { continue }
                    let held = reserved[key] ?? Amounts()
                    for (unit, limit) in limits.sorted(by: { $0.key.rawValue < $1.key.rawValue })
                    where unit != .seconds && used[unit].adding(saturating: held[unit]).adding(saturating: amount[unit]) > limit {
                        return .failure(Ledger.WindowRefusal(window: key, unit: unit, limit: limit, used: used, reserved: held))
                    }
                }
                var id: Int64 = 0
                try db.query("""
                    INSERT INTO reservations(run_id, host, pid, input_tokens, output_tokens, cost_pd, created, counters, owner, lease_until)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """, [.text(runID), .text(PostgresLedger.host), .int(Int64(getpid())), .int(amount.inputTokens),
                          .int(amount.outputTokens), .int(amount.picodollars), .double(Date().timeIntervalSince1970),
                          .text(BudgetCounter.delimited(covering)), .text(owner),
                          .double(Date().timeIntervalSince1970 + lease)]) { r in id = r.int(0) }
                held += 1
                return .success((id, totals))
            }
        }
        return try outcome.get()
    }

    /// What reservations in flight hold on each of these counters, in one query.
    private func reservedOn(_ keys: [String]) throws -> [String: Amounts] {
        guard !keys.isEmpty else { return [:] }
        var held: [String: Amounts] = [:]
        let values = Array(repeating: "(?)", count: keys.count).joined(separator: ", ")
        try db.query("""
            SELECT k.key, COALESCE(SUM(r.input_tokens), 0), COALESCE(SUM(r.output_tokens), 0), COALESCE(SUM(r.cost_pd), 0), COUNT(r.id)
            FROM (VALUES \(values)) AS k(key) LEFT JOIN reservations r ON strpos(r.counters, k.key) > 0
            GROUP BY k.key
            """, keys.map { .text(BudgetCounter.delimited([$0])) }) { r in
            let key = (r.text(0) ?? "").trimmingCharacters(in: .newlines)
            held[key] = Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(4))
        }
        return held
    }

    public func record(_ call: Ledger.Call, releasing reservation: Int64?, cacheable: Bool) throws {
        try locked {
            try db.transaction {
                // The reservation first (the lock order of the lease sweep:
                // reservation, then counters). Gone means its lease expired
                // and its worst case was charged: that charge is replaced
                // by this call's real one.
                var deltas: [String: Amounts] = [:]
                if let r = reservation {
                    var released = false
                    try db.query("DELETE FROM reservations WHERE id = ? RETURNING id", [.int(r)]) { _ in released = true }
                    if !released { deltas = try withdrawExpiredCharge(of: r) }
                    held = max(held - 1, 0)
                }
                try db.insertCall(call)
                if call.charged != Amounts() {
                    for k in BudgetCounter.keys(of: call) { deltas[k, default: Amounts()] += call.charged }
                }
                try addToCounters(deltas)
                if cacheable && call.outcome == "ok" && call.answer != nil && !call.cacheHit {
                    try db.run("""
                        INSERT INTO answers(request_key, call_id) VALUES (?, currval('calls_id_seq'))
                        ON CONFLICT (request_key) DO UPDATE SET call_id = excluded.call_id
                        """, [.text(call.requestKey)])
                }
            }
        }
    }

    /// Adds each amount to its counter (negative amounts subtract), in one
    /// statement, counters in key order.
    func addToCounters(_ deltas: [String: Amounts]) throws {
        let keys = deltas.keys.sorted()
        guard !keys.isEmpty else { return }
        let rows = Array(repeating: "(?, ?, ?, ?, ?)", count: keys.count).joined(separator: ", ")
        try db.run("""
            INSERT INTO window_totals(window_key, input_tokens, output_tokens, cost_pd, calls) VALUES \(rows)
            ON CONFLICT (window_key) DO UPDATE SET input_tokens = window_totals.input_tokens + excluded.input_tokens,
              output_tokens = window_totals.output_tokens + excluded.output_tokens,
              cost_pd = window_totals.cost_pd + excluded.cost_pd, calls = window_totals.calls + excluded.calls
            """, keys.flatMap { k -> [SQLiteDatabase.Binding] in
                let c = deltas[k] ?? Amounts()
                return [.text(k), .int(c.inputTokens), .int(c.outputTokens), .int(c.picodollars), .int(c.calls)]
            })
    }

    public func windowTotal(_ window: String) throws -> Amounts {
        try locked {
            var a = Amounts()
            try db.query("SELECT input_tokens, output_tokens, cost_pd, calls FROM window_totals WHERE window_key = ?",
                         [.text(window)]) { r in
                a = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
            }
            return a
        }
    }

    public func counterTotals(prefix: String) throws -> [String: Amounts] {
        try locked { try db.selectCounters(prefix: prefix, column: "window_key") }
    }

    // MARK: Calls, alerts, tasks

    public func calls(ofRun runID: String) throws -> [Ledger.Call] {
        try locked { try db.selectCalls("WHERE run_id = ? ORDER BY seq", [.text(runID)]) }
    }

    public func cachedCall(requestKey: String) throws -> Ledger.Call? {
        try locked { try db.selectCalls("WHERE id = (SELECT call_id FROM answers WHERE request_key = ?)", [.text(requestKey)]).first }
    }

    public func recordAlert(time: Date, runID: String, kind: String, scope: String, message: String) throws {
        try locked { try db.insertAlert(Ledger.Alert(time: time, runID: runID, kind: kind, scope: scope, message: message)) }
    }

    public func recordTask(_ t: Ledger.TaskRecord) throws {
        try locked { try db.insertTask(t) }
    }

    public func tasks(kind: String) throws -> [Ledger.TaskRecord] {
        try locked { try db.selectTasks(kind: kind) }
    }

    // MARK: Calibrations, settings, budgets

    public func calibration(backend: String, model: String) throws -> InputBounds.Calibration? {
        try locked { try db.selectCalibration(backend: backend, model: model) }
    }

    public func saveCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date) throws {
        try locked { try db.upsertCalibration(c, backend: backend, model: model, at: date) }
    }

    public func setting(_ key: String) throws -> String? {
        try locked { try db.selectSetting(key) }
    }

    public func budgetOverrides() throws -> [Ledger.BudgetOverride] {
        try locked { try db.selectBudgetOverrides() }
    }

    // MARK: Runs

    public func startRun(id: String, script: String, resumedFrom: String?, started: Date) throws {
        try locked {
            try db.run("INSERT INTO runs(id, script, started, pid, host, outcome, resumed_from) VALUES (?, ?, ?, ?, ?, 'running', ?)",
                       [.text(id), .text(script), .double(started.timeIntervalSince1970), .int(Int64(getpid())),
                        .text(PostgresLedger.host), resumedFrom.map { .text($0) } ?? .null])
        }
    }

    public func endRun(id: String, outcome: String, totals: Amounts, ended: Date) throws {
        try locked {
            try db.run("""
                UPDATE runs SET ended = ?, outcome = ?, input_tokens = ?, output_tokens = ?, cost_pd = ?, calls = ? WHERE id = ?
                """, [.double(ended.timeIntervalSince1970), .text(outcome), .int(totals.inputTokens), .int(totals.outputTokens),
                      .int(totals.picodollars), .int(totals.calls), .text(id)])
        }
    }

    public func run(_ id: String) throws -> Ledger.Run? {
        try locked { try db.selectRun(id) }
    }

    /// Nothing is pending (every call was committed when it settled); stops
    /// renewing leases and closes the connection.
    public func close() throws {
        locked { closed = true }
        db.close()
    }
}
