import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Leases on a shared ledger's reservations (the rule is written on
/// `PostgresLeases.swift`): a host killed mid-call blocks the budget only
/// until its lease runs out, and then its call counts at its worst case; a
/// host that was only cut off and settles late replaces that charge with
/// its real usage, one row either way.
@Suite(.serialized) struct PostgresLeaseTests {
    /// Waits for `condition` (checked every 50 ms), at most `limit` seconds.
    private func waitFor(_ limit: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    private func count(_ db: PostgresSQL, _ sql: String) throws -> Int64 {
        var n: Int64 = -1
        try db.query(sql, []) { r in n = r.int(0) }
        return n
    }

    private let today = CalendarWindows(timeZone: .current).keys(at: Date())

    @Test func aKilledHostsReservationIsChargedAtItsWorstCaseWhenItsLeaseRunsOut() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-lease-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.toml").path
        try "[budget.daily]\ntokens = 1000\n[ledger]\nlease = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        // A call that takes a minute to answer; the process dies holding it.
        var env = ProcessInfo.processInfo.environment
        env["OMEGA_LEDGER"] = server.url
        let holder = try startOmega(["--config", config, "-e", "(effect infer.op \"a long one\" 'max-tokens 400 'simulate-latency 60)"],
                                    environment: env)
        defer { holder.cleanUp() }
        let db = try PostgresSQL(url: server.url)
        #expect(waitFor(30) { (try? count(db, "SELECT COUNT(*) FROM reservations")) == 1 }, "\(holder.stderr)")
        var worst: Int64 = 0
        try db.query("SELECT input_tokens + output_tokens FROM reservations", []) { r in worst = r.int(0) }
        #expect(worst > 400)
        kill(holder.pid, SIGKILL)
        _ = holder.wait()

        // While the lease lives, the dead host's reservation still counts.
        let other = try PostgresLedger(url: server.url, lease: 1)
        defer { try? other.close() }
        let limits: BudgetLimits = [.tokens: 1000]
        func reserve(_ tokens: Int64) throws -> Int64 {
            try other.reserve(Amounts(inputTokens: 0, outputTokens: tokens, calls: 1), windows: [("day:" + today.day, limits)],
                              covering: ["total", "day:" + today.day], day: today.day, week: today.week, month: today.month,
                              runID: "run-other", check: true).id
        }
        #expect(throws: Ledger.WindowRefusal.self) { try reserve(1000 - worst + 1) }

        // Once it has run out, the reservation is gone and its worst case is spent: the budget is not blocked for ever,
        // and not overspent either.
        #expect(try waitFor(10) {
            try other.sweepExpiredLeases(force: true)
            return try count(db, "SELECT COUNT(*) FROM reservations") == 0
        })
        #expect(try other.windowTotal("day:" + today.day).tokens == worst)
        #expect(try count(db, "SELECT COUNT(*) FROM calls WHERE outcome = 'lease-expired' AND usage_source = 'worst-case'") == 1)
        #expect(throws: Ledger.WindowRefusal.self) { try reserve(1000 - worst + 1) }
        let id = try reserve(1000 - worst)
        #expect(id > 0)
    }

    @Test func aLateSettleReplacesTheWorstCaseChargeWithTheRealUsage() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let holder = try PostgresLedger(url: server.url, lease: 30)
        let sweeper = try PostgresLedger(url: server.url, lease: 30)
        defer { try? holder.close(); try? sweeper.close() }
        let day = "day:" + today.day
        let covering = BudgetCounter.keys(day: today.day, week: today.week, month: today.month, model: "m", agent: "a", workflow: nil)
        let worst = Amounts(inputTokens: 100, outputTokens: 500, picodollars: 9_000, calls: 1)
        let (id, _) = try holder.reserve(worst, windows: [(day, [.tokens: 10_000])], covering: covering, day: today.day,
                                         week: today.week, month: today.month, runID: "run-late", check: true)
        // The holder is cut off past its lease: the lease runs out, the sweeper charges the worst case.
        let db = try PostgresSQL(url: server.url)
        try db.run("UPDATE reservations SET lease_until = 0 WHERE id = ?", [.int(id)])
        #expect(try sweeper.sweepExpiredLeases(force: true) == 1)
        #expect(try sweeper.windowTotal(day) == worst)
        #expect(try sweeper.windowTotal("agent:a") == worst)

        // The holder comes back and settles: one row, at the real usage, on every counter.
        let used = Amounts(inputTokens: 100, outputTokens: 37, picodollars: 1_234, calls: 1)
        let call = Ledger.Call(time: Date(), runID: "run-late", sequence: 1, script: "", model: "m", backend: "simulator",
                               agent: "a", workflow: nil, operation: "infer",
                               usage: TokenUsage(inputTokens: 100, outputTokens: 37), cost: Money(picodollars: 1_234),
                               latency: 40, cacheHit: false, outcome: "ok", usageSource: "reported", requestID: "r1",
                               requestKey: "k1", answer: "late", finishReason: "stop", day: today.day, week: today.week,
                               month: today.month, charged: used, servedModel: nil)
        try holder.record(call, releasing: id, cacheable: false)
        #expect(try count(db, "SELECT COUNT(*) FROM calls") == 1)
        #expect(try count(db, "SELECT COUNT(*) FROM calls WHERE outcome = 'ok'") == 1)
        #expect(try count(db, "SELECT COUNT(*) FROM lease_expiries") == 0)
        for key in [day, "total", "agent:a", "model:m", "month:" + today.month] {
            #expect(try sweeper.windowTotal(key) == used, "\(key)")
        }
    }

    @Test func aLivingHolderKeepsItsLeaseRenewed() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let holder = try PostgresLedger(url: server.url, lease: 3)
        let sweeper = try PostgresLedger(url: server.url, lease: 3)
        defer { try? holder.close(); try? sweeper.close() }
        _ = try holder.reserve(Amounts(inputTokens: 1, outputTokens: 1, calls: 1), windows: [], covering: ["total"],
                               day: today.day, week: today.week, month: today.month, runID: "run-live", check: false)
        let db = try PostgresSQL(url: server.url)
        var first = 0.0
        try db.query("SELECT lease_until FROM reservations", []) { r in first = r.double(0) }
        // Renewed (pushed later) while the holder lives; never swept.
        #expect(try waitFor(10) {
            var now = 0.0
            try db.query("SELECT lease_until FROM reservations", []) { r in now = r.double(0) }
            return now > first
        })
        for _ in 0..<5 {
            usleep(1_000_000)
            #expect(try sweeper.sweepExpiredLeases(force: true) == 0)
        }
        #expect(try count(db, "SELECT COUNT(*) FROM reservations") == 1)
    }
}
