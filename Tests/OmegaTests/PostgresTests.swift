import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The ground of the PostgreSQL ledger: a real server started by the test,
/// the connection the store will use, and what happens when the server is
/// not there.
@Suite(.serialized) struct PostgresTests {
    @Test func statementsQueriesAndTransactionsOnARealServer() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let db = try PostgresSQL(url: server.url)
        try db.execute("CREATE TABLE window_totals(window_key TEXT PRIMARY KEY, input_tokens BIGINT NOT NULL, cost_pd BIGINT)")
        #expect(try db.run("INSERT INTO window_totals VALUES (?, ?, ?)", [.text("day:2026-11-30"), .int(120), .null]) == 1)
        #expect(try db.run("INSERT INTO window_totals VALUES (?, ?, ?)", [.text("it's '?' quoted"), .int(5), .int(7)]) == 1)
        var rows: [(String?, Int64, Bool)] = []
        try db.query("SELECT window_key, input_tokens, cost_pd IS NULL FROM window_totals WHERE input_tokens > ? ORDER BY input_tokens",
                     [.int(0)]) { r in rows.append((r.text(0), r.int(1), r.isNull(2) == false && r.int(2) == 0 ? false : r.isNull(2))) }
        #expect(rows.map(\.0) == ["it's '?' quoted", "day:2026-11-30"])
        #expect(rows.map(\.1) == [5, 120])
        // A sum of BIGINTs is NUMERIC in PostgreSQL: it still reads as an integer.
        var total: Int64 = -1
        try db.query("SELECT SUM(input_tokens) FROM window_totals") { r in total = r.int(0) }
        #expect(total == 125)
        // A transaction that fails leaves nothing behind.
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try db.transaction {
                try db.run("UPDATE window_totals SET input_tokens = input_tokens + ? WHERE window_key = ?", [.int(1000), .text("day:2026-11-30")])
                throw Refused()
            }
        }
        try db.query("SELECT input_tokens FROM window_totals WHERE window_key = ?", [.text("day:2026-11-30")]) { r in total = r.int(0) }
        #expect(total == 120)
        // The server's own message names what went wrong.
        do {
            try db.run("INSERT INTO window_totals VALUES (?, ?, ?)", [.text("day:2026-11-30"), .int(1), .null])
            Issue.record("a duplicate key was accepted")
        } catch let e as LedgerError {
            #expect(e.message.contains("duplicate key") && e.message.contains("23505"), "\(e.message)")
        }
    }

    @Test func anUnreachableServerIsAClearError() throws {
        let port = try PostgresServer.freePort()
        do {
            _ = try PostgresSQL(url: "postgres://omega:secret@127.0.0.1:\(port)/ledger", timeout: 2)
            Issue.record("connected to nothing")
        } catch let e as LedgerError {
            #expect(e.message.hasPrefix("cannot reach the ledger postgres://omega:***@127.0.0.1:\(port)/ledger"), "\(e.message)")
            #expect(!e.message.contains("secret"))
        }
        #expect(throws: LedgerError.self) { _ = try PostgresSQL(url: "mysql://x@y/z") }
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresSQL.numbered("SELECT ? WHERE a = '?' AND b = ?") == "SELECT $1 WHERE a = '?' AND b = $2")
    }
}

/// The PostgreSQL ledger under the meter: processes sharing one daily
/// budget through the server never overspend it together, and every call
/// they settled is a row exactly once, counted in the day's counter.
@Suite(.serialized) struct PostgresLedgerTests {
    @Test func processesShareADailyBudgetThroughTheServer() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-pgl-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.toml").path
        try "[budget.daily]\ntokens = 3000\n".write(toFile: config, atomically: true, encoding: .utf8)
        let script = dir.appendingPathComponent("hammer.scm").path
        try """
            (define answered 0)
            (let loop ((i 0))
              (when (< i 30)
                (guard (e ((budget-exceeded? e) #f))
                  (effect infer.op (string-append "tell me about budgets, part " (number->string i)) 'max-tokens (+ 40 (* 7 (modulo i 9))))
                  (set! answered (+ answered 1)))
                (loop (+ i 1))))
            (display answered)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        // Open the schema once, then four processes at once.
        let first = try runOmega(["--ledger", server.url, "--config", config, "-e", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let results = Results()
        let url = server.url
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            let r = try? runOmega(["--ledger", url, "--config", config, script], timeout: 120)
            results.set(k, Int(r?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1)
        }
        let answered = results.values.prefix(4)
        #expect(answered.allSatisfy { $0 >= 0 }, "\(answered)")
        let db = try PostgresSQL(url: server.url)
        var rows: Int64 = 0, charged: Int64 = 0, counted: Int64 = -1, inFlight: Int64 = -1
        try db.query("SELECT COUNT(*), COALESCE(SUM(charged_input + charged_output), 0) FROM calls WHERE outcome = 'ok'", []) { r in
            rows = r.int(0); charged = r.int(1)
        }
        try db.query("SELECT input_tokens + output_tokens FROM window_totals WHERE window_key LIKE 'day:%' AND window_key NOT LIKE '%/%'", []) { r in
            counted = r.int(0)
        }
        try db.query("SELECT COUNT(*) FROM reservations", []) { r in inFlight = r.int(0) }
        #expect(rows == Int64(answered.reduce(0, +)), "rows \(rows), answered \(Array(answered))")
        #expect(charged <= 3000 && charged > 1500, "charged \(charged) of 3000")
        #expect(counted == charged, "the day's counter \(counted), the rows \(charged)")
        #expect(inFlight == 0)
    }

    /// The queries both stores share behave the same on PostgreSQL: a stored
    /// calibration only grows, a run is found by a prefix of its id, a kept
    /// setting reads back.
    @Test func sharedQueriesOnTheServer() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let ledger = try PostgresLedger(url: server.url)
        try ledger.saveCalibration(.init(ratio: 1.4, residual: 20, ratioResidual: 9, observations: 3), backend: "openai", model: "m", at: Date())
        try ledger.saveCalibration(.init(ratio: 1.1, residual: 30, ratioResidual: 2, observations: 5), backend: "openai", model: "m", at: Date())
        let c = try #require(try ledger.calibration(backend: "openai", model: "m"))
        #expect(c.ratio == 1.4 && c.residual == 30 && c.ratioResidual == 9 && c.observations == 5)
        try ledger.startRun(id: "run-abc123", script: "x.scm", resumedFrom: nil, started: Date())
        #expect(try ledger.run("run-abc")?.outcome == "running")
        #expect(try ledger.setting("mode") == nil)
    }
}
