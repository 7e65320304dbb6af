import Foundation
import OmegaCore

/// The SQLite database that remembers every settled call, every run, and the
/// spend of each calendar window — shared safely by the processes of one
/// machine.
///
/// Durability: a settled call is first appended to this process's spool
/// file (see `SpoolFile`), which survives the process being killed, and
/// moved into the database in batches (every `batchSize` calls or quarter
/// second on a background thread; before any read or window reservation,
/// and at the end, at once); WAL mode. A killed
/// process's spool is moved in by the next process that opens the ledger. Cross-process budgets: a
/// reservation against a daily/weekly/monthly limit is a row taken inside a
/// `BEGIN IMMEDIATE` transaction after reading the window's totals, so two
/// processes can never both take the last of a window.
public final class Ledger: @unchecked Sendable {  // every mutable field is guarded by `pendingLock` or `dbLock`
    let db: SQLiteDatabase
    /// Where the database lives.
    public var path: String { db.path }
    /// Settled calls written to the spool and not yet moved into the
    /// database. Guarded by `pendingLock`, with `lastFlush`, `flushScheduled`
    /// and `backgroundError`.
    private var pending: [SpooledCall] = []
    private var lastFlush = Date()
    private var flushScheduled = false
    private var backgroundError: Error?
    private let pendingLock = NSLock()
    /// Guards `db` (the background batch and the caller's queries share it).
    private let dbLock = NSRecursiveLock()
    private var spool: SpoolFile?
    private static let background = DispatchQueue(label: "omega.ledger")
    /// Problems found while opening (damaged spool lines left out), for the
    /// host to show; the ledger itself stays consistent.
    public private(set) var warnings: [String] = []
    /// Calls moved into the database per transaction (at most).
    public var batchSize = 256
    /// The spool directory (nil for an in-memory ledger: calls go straight in).
    private var spoolDirectory: String? { path == ":memory:" ? nil : path + "-spool" }

    /// Opens (creating and migrating as needed) the ledger at `path`
    /// (`:memory:` for one that lives only as long as the process).
    public init(path: String) throws {
        if path != ":memory:" {
            // Looked at as text first: the URL's path handling costs its
            // first use a scan of the executable's conformances (0.3 ms of
            // every start), and the directory is there on every run but the first.
            var isDirectory: ObjCBool = false
            let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            if !(FileManager.default.fileExists(atPath: dir.isEmpty ? "/" : dir, isDirectory: &isDirectory) && isDirectory.boolValue) {
                let url = URL(fileURLWithPath: path).deletingLastPathComponent()
                do {
                    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                } catch {
                    throw LedgerError("cannot create the ledger's directory \(url.path): \(error.localizedDescription)")
                }
            }
        }
        // Switching a new file to WAL and running migrations cannot be done
        // by two processes at once (the second would run a migration the
        // first committed): opening is serialised by a lock file beside the
        // ledger, held only while it opens.
        let opening = try OpeningLock(ledgerPath: path)
        defer { opening.release() }
        db = try SQLiteDatabase(path: path)
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                try LedgerSchema.migrate(db)
                try releaseAbandonedReservations()
                try recoverSpools()
                try markKilledRuns()
                break
            } catch let e as LedgerError where e.busy && Date() < deadline {
                usleep(10_000)
            }
        }
    }

    /// The ledger to use: the flag, else `$OMEGA_LEDGER`, else the
    /// configuration's `[ledger] path`, else the default (`none`: no ledger).
    public static func path(flag: String?, configured: String?,
                            environment: [String: String] = ProcessEnvironment.variables()) -> String {
        if let f = flag { return f }
        if let p = environment["OMEGA_LEDGER"], !p.isEmpty { return p }
        return configured ?? defaultPath(environment: environment)
    }

    /// `$OMEGA_LEDGER`, else `$XDG_DATA_HOME/omega/ledger.sqlite`, else
    /// `~/.local/share/omega/ledger.sqlite`.
    public static func defaultPath(environment: [String: String] = ProcessEnvironment.variables()) -> String {
        if let p = environment["OMEGA_LEDGER"], !p.isEmpty { return p }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (ProcessEnvironment.home(environment) + "/.local/share")
        return data + "/omega/ledger.sqlite"
    }

    /// Runs `body` holding the database.
    @discardableResult
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        dbLock.lock()
        defer { dbLock.unlock() }
        return try body()
    }

    /// The schema version this build reads and writes.
    public var schemaVersion: Int { LedgerSchema.migrations.count }

    // MARK: Runs

    /// Records the start of a run.
    public func startRun(id: String, script: String, resumedFrom: String? = nil, started: Date) throws {
        try locked { try db.run("INSERT INTO runs(id, script, started, pid, resumed_from, outcome) VALUES (?, ?, ?, ?, ?, 'running')",
                   [.text(id), .text(script), .double(started.timeIntervalSince1970), .int(Int64(getpid())),
                    resumedFrom.map { .text($0) } ?? .null]) }
    }

    deinit { try? close() }

    /// Moves every spooled call into the database, removes this process's
    /// spool and closes the database (SQLite folds the WAL into the file
    /// then: a process that exits without closing leaves the next one to
    /// replay the whole WAL). The ledger cannot be used afterwards.
    public func close() throws {
        try locked {
            guard !closed else { return }
            try flushLocked()
            if let s = spool {
                try db.run("INSERT OR REPLACE INTO spool_progress(file, offset) VALUES (?, ?)", [.text(s.path), .int(-1)])
                try? FileManager.default.removeItem(atPath: s.path)
                spool = nil
            }
            try db.close()
            closed = true
        }
    }
    private var closed = false

    /// Records the end of a run with its totals and outcome (`ok`, `error`,
    /// `budget`; a run whose process was killed is marked `killed` by the
    /// next process that opens the ledger).
    public func endRun(id: String, outcome: String, totals: Amounts, ended: Date) throws {
        try flush()
        try locked { try db.run("""
            UPDATE runs SET ended = ?, outcome = ?, input_tokens = ?, output_tokens = ?, cost_pd = ?, calls = ?
            WHERE id = ?
            """, [.double(ended.timeIntervalSince1970), .text(outcome), .int(totals.inputTokens),
                  .int(totals.outputTokens), .int(totals.picodollars), .int(totals.calls), .text(id)]) }
    }

    /// A run as the ledger remembers it.
    public struct Run: Sendable, Equatable {
        /// The run id (`run-…`).
        public var id: String
        /// The script it ran: a full path, `<-e>`, `<repl>` or a host's name.
        public var script: String
        /// When it started.
        public var started: Date
        /// When it ended; nil while it runs.
        public var ended: Date?
        /// `running`, `ok`, `error`, `budget` or `killed`.
        public var outcome: String
        /// What its settled calls charged.
        public var totals: Amounts
        /// The run this one resumed (`--resume`), if any.
        public var resumedFrom: String?
    }

    /// The run with `id` (or the latest run whose id starts with it).
    public func run(_ id: String) throws -> Run? {
        try flush()
        return try locked { try db.selectRun(id) }
    }

    // MARK: Calls

    /// One settled call: a row of the `calls` table.
    public struct Call: Sendable, Equatable {
        /// When the call settled.
        public var time: Date
        /// The run that made it.
        public var runID: String
        /// The call's position in its run (1, 2, …), for resuming.
        public var sequence: Int
        /// The script that made it.
        public var script: String
        /// The model Omega asked for: the one prices, limits and reports name.
        public var model: String
        /// The backend that answered (`openai`, `simulate`, `cache` …).
        public var backend: String
        /// The agent it was made for (`with-agent`), if any.
        public var agent: String?
        /// The workflow it was made for (`with-workflow`), if any.
        public var workflow: String?
        /// The operation (`infer.op`, `int.op`, `search.op`).
        public var operation: String
        /// The tokens used, by kind, as the provider reported them or Omega counted them.
        public var usage: TokenUsage
        /// Exact cost; nil when the model has no price.
        public var cost: Money?
        /// Seconds from sending to the last byte.
        public var latency: Double
        /// Whether the answer came from the cache (free).
        public var cacheHit: Bool
        /// `ok`, or the error kind (`timeout`, `cut-stream`…).
        public var outcome: String
        /// `reported`, `counted`, `estimated`, `cache`, `replay`.
        public var usageSource: String
        /// The request id, as results and receipts show it.
        public var requestID: String
        /// The hash of backend, model, prompt and options: the cache's key.
        public var requestKey: String
        /// The answer, kept for the cache and for `--resume`.
        public var answer: String?
        /// `stop`, `length` …; nil for a failed call.
        public var finishReason: String?
        /// The calendar windows the call falls in.
        public var day: String
        /// The ISO week it falls in (`2026-W48`).
        public var week: String
        /// The month it falls in (`2026-11`).
        public var month: String
        /// What the call counted against budgets (zero for a cache hit).
        public var charged: Amounts
        /// The model the server said answered, when it differs from `model`
        /// (`gpt-4o-2024-08-06` for `gpt-4o`).
        public var servedModel: String? = nil
        /// The shared budgets it was charged to (`with-shared-budget`).
        public var shared: [String] = []
    }

    /// Records a settled call: appended to the spool at once (durable from
    /// then on), moved into the database with its batch — its windows'
    /// totals, its cache entry (`cacheable`) and the removal of its
    /// cross-process reservation (which other processes count, worst case,
    /// until then).
    public func record(_ call: Call, releasing reservation: Int64? = nil, cacheable: Bool = false) throws {
        // The texts a server sent (answer, model names) lose any key it echoed.
        var call = call
        call.answer = call.answer.map(Secrets.scrub)
        call.model = Secrets.scrub(call.model)
        call.servedModel = call.servedModel.map(Secrets.scrub)
        call.finishReason = call.finishReason.map(Secrets.scrub)
        var entry = SpooledCall(call: call, reservation: reservation, cacheable: cacheable)
        guard let dir = spoolDirectory else {
            try locked { try db.immediateTransaction { try ingest([entry]) } }
            return
        }
        let spool: SpoolFile
        do {
            if self.spool == nil {
                try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let name = "\(getpid())-\(UInt64.random(in: 0...UInt64.max)).spool"
                self.spool = try SpoolFile(path: dir + "/" + name)
            }
            guard let s = self.spool else { return }
            try s.append(SpoolLine.encode(entry))
            spool = s
        } catch let spoolError {
            // The spool cannot take it: the call goes straight into the
            // database (slower, as durable); only if that fails too is it lost.
            do {
                try locked { try db.immediateTransaction { try ingest([entry]) } }
                return
            } catch {
                throw LedgerError("\(spoolError); and the database could not take it either: \(error)")
            }
        }
        entry.spoolEnd = spool.size
        pendingLock.lock()
        pending.append(entry)
        let failure = backgroundError
        backgroundError = nil
        let due = !flushScheduled && (pending.count >= batchSize || Date().timeIntervalSince(lastFlush) > 0.25)
        if due { flushScheduled = true }
        pendingLock.unlock()
        if let failure { throw failure }   // the call itself is safe in the spool
        if due {
            // Moving the batch in is not on the caller's path: the calls are
            // already durable in the spool.
            Ledger.background.async {
                self.locked {
                    do { try self.flushLocked() } catch {
                        self.pendingLock.lock()
                        self.backgroundError = error
                        self.pendingLock.unlock()
                    }
                }
                self.pendingLock.lock()
                self.flushScheduled = false
                self.pendingLock.unlock()
            }
        }
    }

    /// Moves the spooled calls into the database now.
    public func flush() throws {
        try locked { try flushLocked() }
    }

    /// Holding the database: moves the pending batch in, in one transaction.
    private func flushLocked() throws {
        let batch = pendingBatch()
        guard !batch.isEmpty else { return }
        try db.immediateTransaction { try ingestBatch(batch) }
        batchCommitted(batch.count)
    }

    private func pendingBatch() -> [SpooledCall] {
        pendingLock.lock()
        defer { pendingLock.unlock() }
        return pending
    }

    /// Inside a transaction: a batch and the spool offset after it. The
    /// caller calls `batchCommitted` once the transaction committed (a
    /// rolled-back batch stays pending).
    private func ingestBatch(_ batch: [SpooledCall]) throws {
        guard let last = batch.last else { return }
        try ingest(batch)
        if let s = spool {
            try db.run("INSERT OR REPLACE INTO spool_progress(file, offset) VALUES (?, ?)", [.text(s.path), .int(last.spoolEnd)])
        }
    }

    private func batchCommitted(_ count: Int) {
        pendingLock.lock()
        pending.removeFirst(min(count, pending.count))
        lastFlush = Date()
        pendingLock.unlock()
    }

    /// Inside a transaction: rows, window totals (summed per window), cache
    /// entries, released reservations.
    private func ingest(_ entries: [SpooledCall]) throws {
        var windows: [String: Amounts] = [:]
        for e in entries {
            try db.insertCall(e.call)
            let c = e.call
            if e.cacheable && c.outcome == "ok" && c.answer != nil && !c.cacheHit {
                try db.run("INSERT OR REPLACE INTO answers(request_key, call_id) VALUES (?, ?)",
                           [.text(c.requestKey), .int(db.lastInsertID)])
            }
            if let r = e.reservation { try db.run("DELETE FROM reservations WHERE id = ?", [.int(r)]) }
            if c.charged != Amounts() {
                for key in BudgetCounter.keys(of: c) { windows[key, default: Amounts()] += c.charged }
            }
        }
        for (key, a) in windows {
            try db.run("""
                INSERT INTO window_totals(window, input_tokens, output_tokens, cost_pd, calls) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(window) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
                  output_tokens = output_tokens + excluded.output_tokens, cost_pd = cost_pd + excluded.cost_pd,
                  calls = calls + excluded.calls
                """, [.text(key), .int(a.inputTokens), .int(a.outputTokens), .int(a.picodollars), .int(a.calls)])
        }
    }

    /// Moves in the spools of processes that ended without closing the
    /// ledger (killed), from where each was last ingested.
    private func recoverSpools() throws {
        guard let dir = spoolDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasSuffix(".spool") {
            let file = dir + "/" + name
            if file == spool?.path { continue }
            if let pid = Int32(name.prefix { $0 != "-" }), pid != getpid(), kill(pid, 0) == 0 || errno != ESRCH { continue }
            try db.immediateTransaction {
                var offset: Int64 = 0
                try db.query("SELECT offset FROM spool_progress WHERE file = ?", [.text(file)]) { offset = $0.int(0) }
                guard offset >= 0 else { return }   // already moved in by another process
                let lines = SpoolFile.lines(of: file, from: offset)
                var calls: [SpooledCall] = []
                for (i, l) in lines.enumerated() {
                    if let c = SpoolLine.decode(l.line) { calls.append(c); continue }
                    warnings.append("ledger: ignored line \(i + 1) of \(file) (from byte \(offset)): not a call this omega can read, or its counts are impossible")
                }
                try ingest(calls)
                try db.run("INSERT OR REPLACE INTO spool_progress(file, offset) VALUES (?, ?)", [.text(file), .int(-1)])
            }
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    /// Every call of a run, in order.
    public func calls(ofRun runID: String) throws -> [Call] {
        try flush()
        return try locked { try db.selectCalls("WHERE run_id = ? ORDER BY seq", [.text(runID)]) }
    }

    /// The calls in a time range (for reports).
    public func calls(from: Date, to: Date) throws -> [Call] {
        try flush()
        return try locked {
            try db.selectCalls("WHERE time >= ? AND time < ? ORDER BY time",
                            [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)])
        }
    }

    /// The calls of one calendar window (`day`, `week` or `month` and its key).
    public func calls(window: BudgetScope.Kind, key: String) throws -> [Call] {
        let column = window.isWindow ? window.rawValue : "day"   // the columns are named as the kinds
        try flush()
        return try locked { try db.selectCalls("WHERE \(column) = ? ORDER BY id", [.text(key)]) }
    }

    /// The latest successful answer to an identical request, for the cache.
    public func cachedCall(requestKey: String) throws -> Call? {
        try flush()
        return try locked { try db.selectCalls("WHERE id = (SELECT call_id FROM answers WHERE request_key = ?)", [.text(requestKey)]).first }
    }

    // MARK: Alerts

    /// Records a warning or alert (a threshold crossed, a level reached, a
    /// reply over its reservation, an emergency stop, a degradation).
    public func recordAlert(time: Date, runID: String, kind: String, scope: String, message: String) throws {
        try locked { try db.insertAlert(Alert(time: time, runID: runID, kind: kind, scope: scope, message: message)) }
    }


    /// An alert as recorded.
    public struct Alert: Sendable, Equatable, Codable {
        /// When the alert was raised.
        public var time: Date
        /// The run that raised it.
        public var runID: String
        /// `threshold`, `refused`, `excess`, `emergency` …
        public var kind: String
        /// The budget it is about.
        public var scope: String
        /// What it said.
        public var message: String

        /// The `alerts` table's columns.
        enum CodingKeys: String, CodingKey {
            case time, runID = "run_id", kind, scope, message
        }
    }

    /// The alerts of a run, in order.
    public func alerts(ofRun runID: String) throws -> [Alert] {
        try selectAlerts("WHERE run_id = ? ORDER BY id", [.text(runID)])
    }

    func selectAlerts(_ clause: String, _ values: [SQLiteDatabase.Binding]) throws -> [Alert] {
        try flush()
        return try locked { try db.selectAlerts(clause, values) }
    }

    // MARK: Tasks

    /// A completed task's spend: what forecasts of similar tasks start from.
    public struct TaskRecord: Sendable, Equatable {
        /// When the task completed.
        public var time: Date
        /// The run it completed in.
        public var runID: String
        /// What kind of task (the first word of `(summarize 100 documents)`).
        public var kind: String
        /// The task as written.
        public var task: String
        /// Its size (the first number in it), when it has one.
        public var size: Double?
        /// The tokens it used.
        public var tokens: Int64
        /// What it cost.
        public var cost: Money
        /// How long it took.
        public var seconds: Double
    }

    /// Records a completed task.
    public func recordTask(_ t: TaskRecord) throws {
        try locked { try db.insertTask(t) }
    }

    /// Completed tasks of a kind, oldest first.
    public func tasks(kind: String) throws -> [TaskRecord] {
        try locked { try db.selectTasks(kind: kind) }
    }

    // MARK: Calendar windows

    /// Settled spend of a window (`day:2026-11-23`, `week:2026-W48`, `month:2026-11`).
    public func windowTotal(_ window: String) throws -> Amounts {
        try flush()
        return try locked { try storedWindowTotal(window) }
    }

    /// Every counter whose key starts with `prefix`, with its settled totals.
    public func counterTotals(prefix: String) throws -> [String: Amounts] {
        try flush()
        return try locked { try db.selectCounters(prefix: prefix, column: "window") }
    }

    /// A window's settled totals as stored (no flush, no lock: callers hold it).
    func storedWindowTotal(_ window: String) throws -> Amounts {
        var a = Amounts()
        try db.query("SELECT input_tokens, output_tokens, cost_pd, calls FROM window_totals WHERE window = ?",
                     [.text(window)]) { r in
            a = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
        }
        return a
    }

    /// What calls in flight (in any process) have reserved against a counter.
    func windowReserved(_ counter: String) throws -> Amounts {
        var a = Amounts()
        // Reservations of a build before schema 6 name only their windows.
        let window = String(counter.prefix { $0 != ":" })
        let isWindow = ["day", "week", "month"].contains(window) && !counter.contains("/")
        let legacy = isWindow ? window : "'-'"
        let legacyKey = isWindow ? String(counter.dropFirst(window.count + 1)) : ""
        try db.query("""
            SELECT COALESCE(SUM(input_tokens),0), COALESCE(SUM(output_tokens),0), COALESCE(SUM(cost_pd),0), COUNT(*)
            FROM reservations WHERE instr(counters, ?) > 0 OR (counters = '' AND \(legacy) = ?)
            """, [.text(BudgetCounter.delimited([counter])), .text(legacyKey)]) { r in
            a = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
        }
        return a
    }

    /// A window that cannot take a reservation: its key and its totals.
    public struct WindowRefusal: Error {
        /// The counter that refused (`day:2026-11-29`, `agent:NAME` …).
        public var window: String
        /// The unit whose limit would be passed.
        public var unit: BudgetUnit
        /// That unit's limit.
        public var limit: Int64
        /// What the counter has settled.
        public var used: Amounts
        /// What other calls hold reserved on it.
        public var reserved: Amounts
    }

    /// Atomically checks `amount` against each counter's limits (settled spend
    /// of every process plus their reservations) and, if all can take it,
    /// records the reservation against every counter in `covering` (all the
    /// call's counters, so that a process with other limits sees it too).
    /// Returns its id, or throws `WindowRefusal`.
    public func reserve(_ amount: Amounts, windows: [(key: String, limits: BudgetLimits)], covering: [String],
                 day: String, week: String, month: String, runID: String,
                 check: Bool) throws -> (id: Int64, totals: [String: Amounts]) {
        dbLock.lock()
        defer { dbLock.unlock() }
        let batch = pendingBatch()
        let outcome: Result<(id: Int64, totals: [String: Amounts]), WindowRefusal> = try db.immediateTransaction {
            // This process's settled calls count exactly, not as reservations
            // (and are committed even when the new call is refused).
            try ingestBatch(batch)
            var totals: [String: Amounts] = [:]
            for (key, limits) in windows {
                let used = try storedWindowTotal(key), reserved = try windowReserved(key)
                totals[key] = used
                guard check else { continue }
                for (unit, limit) in limits.sorted(by: { $0.key.rawValue < $1.key.rawValue })
                where unit != .seconds && used[unit].adding(saturating: reserved[unit]).adding(saturating: amount[unit]) > limit {
                    return .failure(WindowRefusal(window: key, unit: unit, limit: limit, used: used, reserved: reserved))
                }
            }
            try db.run("""
                INSERT INTO reservations(run_id, pid, day, week, month, input_tokens, output_tokens, cost_pd, created, counters)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(runID), .int(Int64(getpid())), .text(day), .text(week), .text(month),
                      .int(amount.inputTokens), .int(amount.outputTokens), .int(amount.picodollars),
                      .double(Date().timeIntervalSince1970), .text(BudgetCounter.delimited(covering))])
            return .success((db.lastInsertID, totals))
        }
        batchCommitted(batch.count)
        return try outcome.get()
    }

    /// Runs still marked `running` whose process is gone (killed, or lost
    /// with its machine) become `killed`, with the totals of the calls they
    /// settled (their spools were moved in just before) and the time of their
    /// last call as their end. This process has not started a run yet, so a
    /// `running` row with its own pid is an earlier process's.
    private func markKilledRuns() throws {
        var dead: [String] = []
        try db.query("SELECT id, pid FROM runs WHERE outcome = 'running'") { r in
            let pid = pid_t(truncatingIfNeeded: r.int(1))
            if pid == getpid() || pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH) { dead.append(r.text(0) ?? "") }
        }
        guard !dead.isEmpty else { return }
        try db.immediateTransaction {
            for id in dead {
                try db.run("""
                    UPDATE runs SET outcome = 'killed',
                      input_tokens = (SELECT COALESCE(SUM(charged_input), 0) FROM calls WHERE run_id = ?1),
                      output_tokens = (SELECT COALESCE(SUM(charged_output), 0) FROM calls WHERE run_id = ?1),
                      cost_pd = (SELECT COALESCE(SUM(charged_pd), 0) FROM calls WHERE run_id = ?1),
                      calls = (SELECT COUNT(*) FROM calls WHERE run_id = ?1),
                      ended = (SELECT MAX(time) FROM calls WHERE run_id = ?1)
                    WHERE id = ?1 AND outcome = 'running'
                    """, [.text(id)])
            }
        }
    }

    /// Reservations of processes that no longer exist (killed mid-call) hold
    /// nothing: drop them.
    private func releaseAbandonedReservations() throws {
        var pids: [Int64] = []
        try db.query("SELECT DISTINCT pid FROM reservations") { r in pids.append(r.int(0)) }
        for pid in pids where kill(pid_t(pid), 0) != 0 && errno == ESRCH {
            try db.run("DELETE FROM reservations WHERE pid = ?", [.int(pid)])
        }
    }
}

/// The ledger's schema, one migration per version; `PRAGMA user_version`
/// says how many have run.
enum LedgerSchema {
    static let migrations: [String] = [
        // 1: runs, calls, window totals, cross-process reservations.
        """
        CREATE TABLE runs(
          id TEXT PRIMARY KEY, script TEXT NOT NULL, started REAL NOT NULL, ended REAL, pid INTEGER,
          outcome TEXT NOT NULL, input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
          cost_pd INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0, resumed_from TEXT);
        CREATE TABLE calls(
          id INTEGER PRIMARY KEY, time REAL NOT NULL, run_id TEXT NOT NULL, seq INTEGER NOT NULL, script TEXT NOT NULL,
          model TEXT NOT NULL, backend TEXT NOT NULL, agent TEXT, workflow TEXT, operation TEXT NOT NULL,
          input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
          cache_write_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cost_pd INTEGER, latency REAL NOT NULL,
          cache_hit INTEGER NOT NULL, outcome TEXT NOT NULL, usage_source TEXT NOT NULL, request_id TEXT NOT NULL,
          request_key TEXT NOT NULL, answer TEXT, finish_reason TEXT, day TEXT NOT NULL, week TEXT NOT NULL,
          month TEXT NOT NULL, charged_input INTEGER NOT NULL, charged_output INTEGER NOT NULL,
          charged_pd INTEGER NOT NULL, charged_calls INTEGER NOT NULL);
        CREATE TABLE window_totals(
          window TEXT PRIMARY KEY, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
          cost_pd INTEGER NOT NULL, calls INTEGER NOT NULL);
        CREATE TABLE reservations(
          id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, pid INTEGER NOT NULL, day TEXT NOT NULL, week TEXT NOT NULL,
          month TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_pd INTEGER NOT NULL,
          created REAL NOT NULL);
        """,
        // 2: alerts, the cache's index, the spool's progress; the per-call
        // indexes of early builds dropped (they cost a page write per call).
        """
        CREATE TABLE IF NOT EXISTS alerts(
          id INTEGER PRIMARY KEY, time REAL NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL, scope TEXT NOT NULL,
          message TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS spool_progress(file TEXT PRIMARY KEY, offset INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS answers(request_key TEXT PRIMARY KEY, call_id INTEGER NOT NULL);
        DROP INDEX IF EXISTS calls_run;
        DROP INDEX IF EXISTS calls_key;
        DROP INDEX IF EXISTS calls_time;
        """,
        // 3: completed tasks, for forecasts of similar ones.
        """
        CREATE TABLE IF NOT EXISTS tasks(
          id INTEGER PRIMARY KEY, time REAL NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL, task TEXT NOT NULL,
          size REAL, tokens INTEGER NOT NULL, cost_pd INTEGER NOT NULL, seconds REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS tasks_kind ON tasks(kind);
        """,
        // 4: budgets set from the command line; budget counts started again.
        """
        CREATE TABLE IF NOT EXISTS budget_overrides(
          kind TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL, amount INTEGER NOT NULL, set_at REAL NOT NULL,
          PRIMARY KEY(kind, name, unit));
        CREATE TABLE IF NOT EXISTS resets(
          id INTEGER PRIMARY KEY, time REAL NOT NULL, window TEXT NOT NULL, input_tokens INTEGER NOT NULL,
          output_tokens INTEGER NOT NULL, cost_pd INTEGER NOT NULL, calls INTEGER NOT NULL);
        """,
        // 5: what each backend and model bills for a prompt, against Omega's count (InputBounds).
        """
        CREATE TABLE IF NOT EXISTS calibrations(
          backend TEXT NOT NULL, model TEXT NOT NULL, ratio REAL NOT NULL, residual INTEGER NOT NULL,
          ratio_residual INTEGER NOT NULL, observations INTEGER NOT NULL, updated REAL NOT NULL,
          PRIMARY KEY(backend, model));
        """,
        // 6: budgets that add up across runs: counters of everything since a
        // reset (total, per model, agent, workflow) and of each of those in
        // each calendar window, kept in window_totals beside the windows and
        // filled from the calls already recorded; reservations list the
        // counters they hold; the model a server said answered.
        """
        ALTER TABLE reservations ADD COLUMN counters TEXT NOT NULL DEFAULT '';
        ALTER TABLE calls ADD COLUMN served_model TEXT;
        INSERT OR REPLACE INTO window_totals(window, input_tokens, output_tokens, cost_pd, calls)
          SELECT 'total', SUM(charged_input), SUM(charged_output), SUM(charged_pd), SUM(charged_calls) FROM calls
          HAVING COUNT(*) > 0;
        """ + ["model", "agent", "workflow"].map { column in
            ["", "day", "week", "month"].map { window in
                let key = window.isEmpty ? "'\(column):' || \(column)" : "'\(window):' || \(window) || '/\(column):' || \(column)"
                let group = window.isEmpty ? column : "\(window), \(column)"
                return """
                INSERT OR REPLACE INTO window_totals(window, input_tokens, output_tokens, cost_pd, calls)
                  SELECT \(key), SUM(charged_input), SUM(charged_output), SUM(charged_pd), SUM(charged_calls) FROM calls
                  WHERE \(column) IS NOT NULL GROUP BY \(group);
                """
            }.reduce("", +)   // not joined(): unspecialized, it costs every start a conformance scan
        }.reduce("", +),
        // 7: settings that outlive a run (the mode of `omega tokens mode`).
        """
        CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, set_at REAL NOT NULL);
        """,
        // 8: the shared budgets a call was charged to (names, one per line).
        """
        ALTER TABLE calls ADD COLUMN shared TEXT;
        """,
        // 9: every start looks for runs still marked running (killed ones):
        // without an index that read grew with every run ever made.
        """
        CREATE INDEX IF NOT EXISTS runs_running ON runs(outcome) WHERE outcome = 'running';
        """,
    ]

    /// Runs the migrations not yet run (callers hold the opening lock, so
    /// two processes never run one twice). Migration `N` is version `N`: it
    /// sets `PRAGMA user_version` (which says a ledger is newer than this
    /// build) and is noted in `grdb_migrations` (the table the GRDB
    /// migrator of earlier builds kept; a ledger made before that kept its
    /// version only in `user_version`).
    static func migrate(_ db: SQLiteDatabase) throws {
        // Every run opens the ledger: one read says when there is nothing to do.
        var current = 0, tracked = false
        try db.query("SELECT (SELECT user_version FROM pragma_user_version), EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations')") { r in
            current = Int(r.int(0))
            tracked = r.int(1) != 0
        }
        if current == migrations.count && tracked { return }
        try db.immediateTransaction {
            var version = 0
            try db.query("PRAGMA user_version") { r in version = Int(r.int(0)) }
            guard version <= migrations.count else {
                throw LedgerError("the ledger \(db.path) has schema version \(version), newer than this omega understands (\(migrations.count)); upgrade omega")
            }
            try db.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            var applied = Set<String>()
            try db.query("SELECT identifier FROM grdb_migrations") { r in applied.insert(r.text(0) ?? "") }
            if applied.isEmpty && version > 0 {
                for n in 1...version { try db.run("INSERT INTO grdb_migrations(identifier) VALUES (?)", [.text("\(n)")]); applied.insert("\(n)") }
            }
            for (i, sql) in migrations.enumerated() where !applied.contains("\(i + 1)") {
                try db.execute(sql)
                try db.execute("PRAGMA user_version = \(i + 1)")
                try db.run("INSERT INTO grdb_migrations(identifier) VALUES (?)", [.text("\(i + 1)")])
            }
        }
    }
}

/// An exclusive lock on `LEDGER-lock` while a ledger opens (see `Ledger.init`).
struct OpeningLock {
    private let fd: Int32

    init(ledgerPath: String) throws {
        guard ledgerPath != ":memory:" else { fd = -1; return }
        let lockPath = ledgerPath + "-lock"
        fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LedgerError("cannot open the ledger's lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw LedgerError("cannot lock \(lockPath): \(message)")
            }
        }
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }
}
