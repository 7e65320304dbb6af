import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The meter's promises, checked directly: calendar windows, concurrency,
/// overruns, the ledger.
@Suite struct MeterTests {
    static func tempLedger() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("omega-ledger-\(UUID().uuidString).sqlite").path
    }

    /// Removes a ledger file and the files SQLite and the ledger keep beside it.
    static func removeLedger(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-lock", "-spool"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    /// Admits and settles one call that uses exactly `input` + `output` tokens.
    @discardableResult
    static func call(_ meter: Meter, input: Int = 10, output: Int, maxTokens: Int? = nil, model: String = "gpt-4o-mini") throws -> Bool {
        var request = InferenceRequest(prompt: .text("x"), model: model, maxTokens: maxTokens ?? output,
                                       promptTokens: TokenCount(tokens: input, exact: true, encoding: nil, note: nil))
        guard case .send(let reservation) = try meter.admit(&request, backend: "test") else { return false }
        let result = InferenceResult(text: "ok", model: model, finishReason: "stop",
                                     usage: TokenUsage(inputTokens: input, outputTokens: output), usageSource: .reported,
                                     latency: 0, backend: "test", requestID: request.id)
        meter.settle(request, reservation: reservation, outcome: .success(result))
        return true
    }

    static func date(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text)!
    }

    /// A run closing the ledger leaves its write-ahead log for the next open
    /// (no checkpoint, so no wait for the disk at every start and end), and
    /// what the log holds is there when the ledger is opened again.
    @Test func closingKeepsTheLogAndTheNextOpenReadsIt() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let first = try Ledger(path: path)
        try first.startRun(id: "run-kept", script: "kept.scm", started: Date())
        try first.endRun(id: "run-kept", outcome: "ok", totals: Amounts(inputTokens: 3, outputTokens: 4), ended: Date())
        try first.close()
        let log = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(log > 0)
        let again = try Ledger(path: path)
        let run = try again.run("run-kept")
        #expect(run?.outcome == "ok")
        #expect(run?.ended != nil)
        try again.close()
    }

    @Test func windowKeysFollowTheZoneAndISOWeeks() throws {
        let kolkata = CalendarWindows(timeZone: TimeZone(identifier: "Asia/Kolkata")!)
        // 18:40 UTC on the 23rd is already 00:10 on the 24th in Kolkata (+05:30).
        #expect(kolkata.key(.day, at: Self.date("2026-11-23T18:40:00Z")) == "2026-11-24")
        #expect(kolkata.key(.day, at: Self.date("2026-11-23T18:20:00Z")) == "2026-11-23")
        let utc = CalendarWindows(timeZone: TimeZone(identifier: "UTC")!)
        // 1 January 2027 is a Friday: ISO week 53 of 2026.
        #expect(utc.key(.week, at: Self.date("2027-01-01T12:00:00Z")) == "2026-W53")
        #expect(utc.key(.week, at: Self.date("2027-01-04T12:00:00Z")) == "2027-W01")
        #expect(utc.key(.week, at: Self.date("2026-11-29T23:59:00Z")) == "2026-W48")
        #expect(utc.key(.week, at: Self.date("2026-11-30T00:01:00Z")) == "2026-W49")
        #expect(utc.key(.month, at: Self.date("2026-02-28T23:59:59Z")) == "2026-02")
    }

    @Test func dailyWeeklyMonthlyBudgetsRollOverAtLocalMidnight() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        var policy = BudgetPolicy()
        policy.timeZone = TimeZone(identifier: "America/New_York")!
        policy.windows[.day] = [.tokens: 1000]
        var now = Self.date("2026-11-24T04:50:00Z")    // 23:50 on the 23rd in New York
        let meter = Meter(policy: policy, ledger: try Ledger(path: path), clock: { now }, report: { _ in })
        try Self.call(meter, output: 890)
        do {
            try Self.call(meter, output: 200)
            Issue.record("the day's budget took a call past its limit")
        } catch let e as BudgetExceeded {
            #expect(e.kind == .day && e.name == "2026-11-23")
            #expect(e.description == "daily budget 2026-11-23 would exceed its limit of 1000 tokens (current: 900, requested: 210)")
        }
        now = Self.date("2026-11-24T05:10:00Z")        // 00:10 on the 24th: a new day
        #expect(try Self.call(meter, output: 200))

        // Week: Sunday night → Monday morning (ISO weeks start on Monday).
        var weekly = BudgetPolicy()
        weekly.timeZone = TimeZone(identifier: "Europe/Berlin")!
        weekly.windows[.week] = [.tokens: 500]
        weekly.windows[.month] = [.calls: 3]
        now = Self.date("2026-11-29T22:30:00Z")        // Sunday 23:30 in Berlin
        // A ledger of its own: the calls above fell in the same ISO week.
        let path2 = Self.tempLedger()
        defer { MeterTests.removeLedger(path2) }
        let m2 = Meter(policy: weekly, ledger: try Ledger(path: path2), clock: { now }, report: { _ in })
        try Self.call(m2, output: 400)
        #expect(throws: BudgetExceeded.self) { try Self.call(m2, output: 100) }
        now = Self.date("2026-11-29T23:30:00Z")        // Monday 00:30
        try Self.call(m2, output: 400)
        // Month: three calls in November; the fourth waits for December.
        try Self.call(m2, output: 1)
        #expect(throws: BudgetExceeded.self) { try Self.call(m2, output: 1) }
        now = Self.date("2026-11-30T23:30:00Z")        // 1 December, 00:30 in Berlin
        #expect(try Self.call(m2, output: 1))
    }

    @Test func aWindowsSpendIsReadBackFromTheLedger() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        var policy = BudgetPolicy()
        policy.windows[.day] = [.tokens: 1000]
        let now = Self.date("2026-11-23T12:00:00Z")
        let first = Meter(policy: policy, ledger: try Ledger(path: path), clock: { now }, report: { _ in })
        try Self.call(first, output: 700)
        // A later run (another process, another day's script) sees the 710 already spent.
        let second = Meter(policy: policy, ledger: try Ledger(path: path), clock: { now }, report: { _ in })
        #expect(throws: BudgetExceeded.self) { try Self.call(second, output: 300) }
        #expect(try Self.call(second, output: 280))
    }

    @Test func concurrentCallsNeverOverspend() throws {
        for (seed, limit) in [(1, 3000), (2, 5000), (3, 1500)] {
            var policy = BudgetPolicy()
            policy.run = [.tokens: Int64(limit) * 3]
            var library = ModelLibrary()
            library.meter = Meter(policy: policy, report: { _ in })
            let interp = try Interpreter(models: library)
            let spent = try interp.evaluate("""
                (define inner 0)
                (with-budget \(limit)
                  (lambda ()
                    (parallel-map
                      (lambda (i)
                        (guard (e ((budget-exceeded? e) #f))
                          (effect infer.op (string-append "q" (number->string (* i \(seed))))
                                  'max-tokens (+ 10 (modulo (* i 37 \(seed)) 190))
                                  'simulate-latency (/ (modulo (* i 7 \(seed)) 5) 1000.))))
                      (iota 120) 16)
                    (set! inner (budget-spent))))
                inner
                """)
            #expect(spent.isFixnum && spent.fixnum <= limit && spent.fixnum > limit / 2, "seed \(seed): spent \(spent)")
            #expect(interp.meter.runTotals.tokens == Int64(spent.fixnum))
            #expect(interp.meter.runTotals.tokens <= Int64(limit) * 3)
        }
    }

    @Test func aReplyLargerThanItsReservationIsChargedAndStopsTheRun() throws {
        var reports: [String] = []
        var library = ModelLibrary()
        library.meter = Meter(report: { reports.append($0) })
        let interp = try Interpreter(models: library)
        do {
            try interp.evaluate("(with-budget 1000 (lambda () (guard (e (#t 'caught)) (effect infer.op \"x\" 'max-tokens 100 'simulate-overrun 15))))")
            Issue.record("the run was not stopped")
        } catch let e as OmegaError {
            #expect(e.kind == .budget)
            #expect(e.message.contains("emergency stop"), "\(e.message)")
        }
        #expect(interp.meter.runTotals.outputTokens >= 1400)   // the excess is charged, not dropped
        #expect(reports.contains { $0.contains("though max-tokens was 100") })
        // Every later call is refused.
        #expect(throws: OmegaError.self) { try interp.evaluate("(effect infer.op \"y\" 'max-tokens 5)") }
    }

    /// A server that ignores max-tokens, with 16 calls in flight: the first
    /// long reply stops the run; the others are cancelled, never charged, so
    /// the budget ends at most that one call over.
    @Test func aServerIgnoringMaxTokensEndsTheRunAtMostOneCallOver() throws {
        var library = ModelLibrary()
        library.meter = Meter(report: { _ in })
        let interp = try Interpreter(models: library)
        do {
            try interp.evaluate("""
                (with-budget 1000
                  (lambda ()
                    (parallel-map (lambda (i) (effect infer.op (list "q" i) 'max-tokens 50 'simulate-overrun 2
                                                      'simulate-latency (if (= i 0) 0.01 30)))
                                  (iota 16) 16)))
                """)
            Issue.record("the run was not stopped")
        } catch let e as OmegaError {
            #expect(e.kind == .budget)
            #expect(e.message.contains("ignores max-tokens"), "\(e.message)")
        }
        #expect(interp.meter.runTotals.calls == 1)
        #expect(interp.meter.runTotals.outputTokens >= 100)   // the one long reply, charged in full
        #expect(interp.effects.inFlight == 0)
    }

    /// A forecast's dry run whose thunk fails, uncaught, ends with the
    /// evaluation: the next call is charged to the real meter again.
    @Test func aFailedDryRunDoesNotOutliveItsEvaluation() throws {
        let meter = Meter(report: { _ in })
        var models = ModelLibrary()
        models.meter = meter
        let interp = try Interpreter(models: models)
        for _ in 0..<3 {
            do {
                _ = try interp.evaluate("(forecast-budget-details '(job 1) (lambda () (effect infer.op \"a\") (car '())))")
                Issue.record("the failing dry run ended")
            } catch let e as OmegaError {
                #expect(e.message.contains("car"), "\(e.message)")
            }
            #expect(interp.meter === meter, "the dry run's meter is still in place")
        }
        _ = try interp.evaluate("(effect infer.op \"hi\")")
        #expect(meter.runTotals.calls == 1, "the call after the failed dry run was not charged")
    }

    @Test func replayedAndCachedAnswersCostNothing() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let ledger = try Ledger(path: path)
        var library = ModelLibrary()
        library.meter = Meter(ledger: ledger, report: { _ in })
        let interp = try Interpreter(models: library)
        try interp.evaluate("(enable-caching!) (effect infer.op \"same\" 'max-tokens 20) (effect infer.op \"same\" 'max-tokens 20)")
        let calls = try ledger.calls(ofRun: interp.meter.runID)
        #expect(calls.count == 2)
        #expect(calls[0].cacheHit == false && calls[0].charged.tokens > 0)
        #expect(calls[1].cacheHit == true && calls[1].charged == Amounts() && calls[1].answer == calls[0].answer)
        #expect(interp.meter.runTotals == calls[0].charged)
    }

    @Test func spoolLinesRoundTripAnyText() throws {
        let call = Ledger.Call(
            time: Date(timeIntervalSince1970: 1_795_400_000.123456), runID: "run-1", sequence: 7, script: "/tmp/a b.scm",
            model: "gpt-4o", backend: "simulate", agent: "re\tviewer", workflow: nil, operation: "infer.op",
            usage: TokenUsage(inputTokens: 10, outputTokens: 20, cacheReadTokens: 3, cacheWriteTokens: 4, reasoningTokens: 5),
            cost: Money(picodollars: 123_456), latency: 0.25, cacheHit: false, outcome: "ok", usageSource: "reported",
            requestID: "req-1", requestKey: "abc", answer: "line one\nline\ttwo \\ back\\slash\r\\N é", finishReason: nil,
            day: "2026-11-23", week: "2026-W48", month: "2026-11",
            charged: Amounts(inputTokens: 10, outputTokens: 20, picodollars: 123_456, calls: 1))
        let line = String(decoding: SpoolLine.encode(SpooledCall(call: call, reservation: 42, cacheable: true)), as: UTF8.self)
        #expect(!line.contains("\n"))
        let back = try #require(SpoolLine.decode(line))
        #expect(back.call == call)
        #expect(back.reservation == 42 && back.cacheable)
        #expect(SpoolLine.decode("2\tfuture format") == nil)
        #expect(SpoolLine.decode("1\ttoo\tfew") == nil)
    }

    @Test func aKilledProcesssSpoolIsMovedInOnce() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        // A spool left by a process that no longer exists (pid 2^22 − 1 is above Linux's default pid_max).
        let dir = path + "-spool"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try Ledger(path: path)
        var lines = ""
        for i in 1...3 {
            let c = Ledger.Call(time: Date(), runID: "run-dead", sequence: i, script: "s", model: "m", backend: "b",
                                agent: nil, workflow: nil, operation: "infer.op", usage: TokenUsage(inputTokens: 1, outputTokens: 2),
                                cost: nil, latency: 0, cacheHit: false, outcome: "ok", usageSource: "reported",
                                requestID: "req-\(i)", requestKey: "k\(i)", answer: "a", finishReason: "stop",
                                day: "2026-11-23", week: "2026-W48", month: "2026-11",
                                charged: Amounts(inputTokens: 1, outputTokens: 2, calls: 1))
            lines += String(decoding: SpoolLine.encode(SpooledCall(call: c, reservation: nil, cacheable: false)), as: UTF8.self) + "\n"
        }
        lines += "1\tcut off by the crash"          // no newline: never a settled call
        try lines.write(toFile: dir + "/4194303-1.spool", atomically: true, encoding: .utf8)
        let first = try Ledger(path: path)
        #expect(try first.calls(ofRun: "run-dead").map(\.requestID) == ["req-1", "req-2", "req-3"])
        #expect(try first.windowTotal("day:2026-11-23").tokens == 9)
        #expect(!FileManager.default.fileExists(atPath: dir + "/4194303-1.spool"))
        let second = try Ledger(path: path)
        #expect(try second.calls(ofRun: "run-dead").count == 3)
    }

    @Test func theLedgerMigratesAndRefusesANewerSchema() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        // A ledger at schema version 1 (as the first builds wrote it) is migrated on open.
        let old = try SQLiteDatabase(path: path)
        try old.execute(LedgerSchema.migrations[0] + "; PRAGMA user_version = 1")
        try old.run("INSERT INTO runs(id, script, started, outcome) VALUES ('run-old', 's', 0, 'ok')")
        let ledger = try Ledger(path: path)
        #expect(ledger.schemaVersion == 9)
        var version: Int64 = 0
        try ledger.db.query("PRAGMA user_version") { version = $0.int(0) }
        #expect(version == 9)
        // Version 5's calibrations: stored, read back, and only ever raised.
        let cal = InputBounds.Calibration(ratio: 1.5, residual: 23, ratioResidual: 18, observations: 1)
        try ledger.saveCalibration(cal, backend: "openai", model: "smollm2")
        try ledger.saveCalibration(InputBounds.Calibration(ratio: 1.5, residual: 20, ratioResidual: 19, observations: 2),
                                   backend: "openai", model: "smollm2")
        #expect(try ledger.calibration(backend: "openai", model: "smollm2")
                == InputBounds.Calibration(ratio: 1.5, residual: 23, ratioResidual: 19, observations: 2))
        #expect(try ledger.run("run-old")?.outcome == "ok")
        // Version 4's tables are there.
        try ledger.setBudgetOverride(kind: .workflow, name: "w", unit: .tokens, amount: 5)
        #expect(try ledger.budgetOverrides().map(\.amount) == [5])
        try ledger.recordAlert(time: Date(), runID: "run-old", kind: "threshold", scope: "run", message: "m")
        var mode = ""
        try ledger.db.query("PRAGMA journal_mode") { mode = $0.text(0) ?? "" }
        #expect(mode == "wal")
        try ledger.db.execute("PRAGMA user_version = 99")
        #expect(throws: LedgerError.self) { _ = try Ledger(path: path) }
        #expect(throws: LedgerError.self) { _ = try Ledger(path: "/proc/no/such/dir/ledger.sqlite") }
    }

    /// A ledger the GRDB-based builds wrote (migrations noted in
    /// `grdb_migrations`, version 8) opens, gains the later migrations, and
    /// the start's look for killed runs reads an index, not every run.
    @Test func aLedgerOfEarlierBuildsIsMigratedOnce() throws {
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let old = try SQLiteDatabase(path: path)
        try old.execute("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        for (i, m) in LedgerSchema.migrations.prefix(8).enumerated() {
            try old.execute(m + "; PRAGMA user_version = \(i + 1)")
            try old.run("INSERT INTO grdb_migrations(identifier) VALUES (?)", [.text("\(i + 1)")])
        }
        try old.run("INSERT INTO runs(id, script, started, outcome, pid) VALUES ('run-dead', 's', 0, 'running', 0)")
        try old.close()
        let ledger = try Ledger(path: path)
        var applied: [String] = []
        try ledger.db.query("SELECT identifier FROM grdb_migrations ORDER BY CAST(identifier AS INTEGER)") { applied.append($0.text(0) ?? "") }
        #expect(applied == (1...LedgerSchema.migrations.count).map { "\($0)" })
        #expect(try ledger.run("run-dead")?.outcome == "killed")
        var plan = ""
        try ledger.db.query("EXPLAIN QUERY PLAN SELECT id, pid FROM runs WHERE outcome = 'running'") { plan += ($0.text(3) ?? "") }
        #expect(plan.contains("runs_running"), "\(plan)")
        try ledger.close()
        // Opened again: nothing left to migrate, the file unchanged in schema.
        let again = try Ledger(path: path)
        #expect(again.schemaVersion == LedgerSchema.migrations.count)
    }

    @Test func budgetStateRoundTripsThroughJSON() throws {
        let meter = Meter(report: { _ in })
        meter.setLimits(.agent, "writer", [.tokens: 10_000])
        var request = InferenceRequest(prompt: .text("x"), model: "gpt-4o-mini", maxTokens: 50, agent: "writer",
                                       promptTokens: TokenCount(tokens: 5, exact: true, encoding: nil, note: nil))
        guard case .send(let r) = try meter.admit(&request, backend: "t") else { Issue.record("not sent"); return }
        meter.settle(request, reservation: r, outcome: .success(InferenceResult(
            text: "a", model: "gpt-4o-mini", finishReason: "stop", usage: TokenUsage(inputTokens: 5, outputTokens: 40),
            usageSource: .reported, latency: 0, backend: "t", requestID: request.id)))
        let json = try meter.stateJSON()
        let restored = Meter(report: { _ in })
        try restored.restore(stateJSON: json)
        #expect(restored.runTotals == meter.runTotals)
        #expect(restored.usageBy["agent"]?["writer"]?.tokens == 45)
        #expect(restored.status(agent: "writer").contains { $0.kind == .agent && $0.used == 45 })
    }

    @Test func configuredBudgetsAreReadAndBadOnesNamed() throws {
        let good = try Configuration(text: """
            [budget]
            time_zone = "Europe/Berlin"
            thresholds = [50, 90]
            [budget.run]
            tokens = 1000
            usd = 0.25
            [budget.daily]
            calls = 10
            [budget.levels.run]
            moderate = 100
            high = 500
            critical = 900
            [budget.agents]
            code-reviewer = 50000
            [budget.degrade]
            cheaper_model = { at = 80, from = "claude-sonnet-4-5", to = "claude-haiku-4-5" }
            cache_only = 95
            """, file: URL(fileURLWithPath: "/tmp/c.toml"))
        let p = try good.budgetPolicy()
        #expect(p.timeZone.identifier == "Europe/Berlin")
        #expect(p.thresholds == [50, 90])
        #expect(p.run[.tokens] == 1000 && p.run[.usd] == 250_000_000_000)
        #expect(p.windows[.day]?[.calls] == 10)
        #expect(p.levels[.run]?.critical == 900)
        #expect(p.agents["code-reviewer"]?[.tokens] == 50000)
        #expect(p.degrade.count == 2)
        for (text, needle) in [("[budget.run]\nfurlongs = 3", "/tmp/c.toml:2: budget.run.furlongs: unknown budget unit"),
                               ("[budget]\ntime_zone = \"Mars/Olympus\"", "unknown time zone"),
                               ("[budget.daily]\nseconds = 5", "cannot have a time limit"),
                               ("[budget.levels.run]\nmoderate = 10", "moderate, high and critical are all needed"),
                               ("[budget.degrade]\nteleport = 3", "unknown rule")] {
            let c = try Configuration(text: text, file: URL(fileURLWithPath: "/tmp/c.toml"))
            #expect(throws: ConfigError.self) { _ = try c.budgetPolicy() }
            do { _ = try c.budgetPolicy() } catch { #expect("\(error)".contains(needle), "\(error)") }
        }
    }

    @Test func theTrackersConfigurationLayoutIsRead() throws {
        let c = try Configuration(text: """
            [token_budget]
            total_budget = 1000000
            warning_threshold = 80
            [token_budget.per_agent_limits]
            code-reviewer = 100000
            test-gen = 50000
            """, file: URL(fileURLWithPath: "/tmp/t.toml"))
        let p = try c.budgetPolicy()
        // total_budget counts everything since the last reset (seed 002), not one run.
        #expect(p.total[.tokens] == 1_000_000 && p.run[.tokens] == nil)
        #expect(p.thresholds == [80])
        #expect(p.agents["code-reviewer"]?[.tokens] == 100_000 && p.agents["test-gen"]?[.tokens] == 50_000)
        let unlimited = try Configuration(text: "[token_budget]\ntotal_budget = 0\n", file: URL(fileURLWithPath: "/tmp/t.toml"))
        #expect(try unlimited.budgetPolicy().total[.tokens] == nil)
        let bad = try Configuration(text: "[token_budget]\nwarning_threshold = 180\n", file: URL(fileURLWithPath: "/tmp/t.toml"))
        do { _ = try bad.budgetPolicy(); Issue.record("accepted 180%") } catch {
            #expect("\(error)".contains("/tmp/t.toml:2: token_budget.warning_threshold"))
        }
    }

    @Test func escalationLevelsWarnThenStopAtCritical() throws {
        var policy = BudgetPolicy()
        policy.levels[.run] = EscalationLevels(moderate: 100, high: 200, critical: 300)
        var reports: [String] = []
        let path = Self.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let ledger = try Ledger(path: path)
        let meter = Meter(policy: policy, ledger: ledger, report: { reports.append($0) })
        try Self.call(meter, output: 100)                         // 110: moderate
        #expect(reports.last?.contains("moderate level") == true)
        try Self.call(meter, output: 90)                          // 210: high
        #expect(reports.last?.contains("flagged for review") == true)
        do {
            try Self.call(meter, output: 100)                     // 320 > critical
            Issue.record("critical level did not stop the call")
        } catch let e as BudgetExceeded {
            #expect(e.level == .critical)
            #expect(e.description.contains("would exceed its critical level of 300 tokens"))
        }
        // Each level is recorded in the ledger as an alert; the high one flags the run for review.
        // The refusal at the critical level is an alert too.
        #expect(try ledger.alerts(ofRun: meter.runID).map(\.kind) == ["moderate", "review", "refused"])
    }
}

/// Prompt bounds per backend and model (InputBounds), and the queue for connections.
@Suite struct InputBoundsTests {
    func request(_ text: String, model: String = "smollm2", exact: Bool = false, counted: Int) -> InferenceRequest {
        InferenceRequest(prompt: .text(text), model: model, maxTokens: 8,
                         promptTokens: TokenCount(tokens: counted, exact: exact, encoding: "o200k_base", note: nil))
    }

    @Test func exactCountsAreKeptAndOtherModelsStartConservative() {
        let b = InputBounds()
        #expect(b.bound(request("hi", model: "gpt-4o", exact: true, counted: 14), backend: "openai") == .init(tokens: 14, exact: true))
        // Not exact: 1.5 × 14 + 32 per message.
        #expect(b.bound(request("hi", counted: 14), backend: "openai") == .init(tokens: 53, exact: false))
        // The simulator bills Omega's own count.
        #expect(b.bound(request("hi", counted: 14), backend: "simulate").tokens == 14)
    }

    @Test func repliesCalibrateTheBoundWhichCoversEveryPromptSeen() {
        let b = InputBounds()
        // SmolLM2 on llama.cpp: 14 counted, 37 billed (its template adds a system prompt).
        #expect(!b.observe(request("Say hello.", counted: 14), backend: "openai", billed: 37))
        let short = b.bound(request("Hi.", counted: 11), backend: "openai").tokens
        #expect(short >= 34 && short < 53)      // tighter than the prior, still covering the template
        // A reply billing more than its bound raises the bound at once.
        let before = b.bound(request("x", counted: 20), backend: "openai").tokens
        #expect(b.observe(request("x", counted: 20), backend: "openai", billed: before + 9))
        #expect(b.bound(request("x", counted: 20), backend: "openai").tokens >= before + 9)
        // A long prompt that bills at a higher ratio raises the ratio.
        b.observe(request("long", counted: 1000), backend: "openai", billed: 1800)
        #expect(b.bound(request("long", counted: 1000), backend: "openai").tokens >= 1800)
        #expect(b.bound(request("longer", counted: 2000), backend: "openai").tokens >= 3600)
    }

    @Test func calibrationsOutliveTheRunInTheLedger() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let first = InputBounds(ledger: try Ledger(path: path))
        first.observe(request("Say hello.", counted: 14), backend: "openai", billed: 37)
        let calibrated = first.bound(request("Hi.", counted: 11), backend: "openai")
        let next = InputBounds(ledger: try Ledger(path: path))
        #expect(next.bound(request("Hi.", counted: 11), backend: "openai") == calibrated)
        #expect(next.calibration(backend: "openai", model: "smollm2")?.observations == 1)
    }

    @Test func unreportedUsageIsChargedAsBounds() throws {
        let meter = Meter(report: { _ in })
        var r = request("Say hello.", counted: 14)
        guard case .send(let reservation) = try meter.admit(&r, backend: "openai") else { Issue.record("not sent"); return }
        #expect(r.inputBound == 53)
        let counted = InferenceResult(text: "Hello there", model: "smollm2", finishReason: "stop",
                                      usage: TokenUsage(inputTokens: 14, outputTokens: 3), usageSource: .estimated,
                                      latency: 0, backend: "openai", requestID: r.id)
        guard case .success(let settled) = meter.settle(r, reservation: reservation, outcome: .success(counted)) else {
            Issue.record("failed"); return
        }
        #expect(settled.usageSource == .bounded)
        #expect(settled.usage.inputTokens == 53 && settled.usage.outputTokens == 6)   // ceil(1.5 × 3) + 1
        #expect(meter.runTotals.tokens == 59)
    }

    @Test func thePriorIsConfigurable() throws {
        let file = URL(fileURLWithPath: "/tmp/omega.toml")
        let c = try Configuration(text: "[budget]\nbound_ratio = 2.0\nbound_overhead = 40\n", file: file)
        let meter = Meter(policy: try c.budgetPolicy(), report: { _ in })
        #expect(meter.bounds.bound(request("hi", counted: 10), backend: "openai").tokens == 60)
        #expect(throws: ConfigError.self) { try Configuration(text: "[budget]\nbound_ratio = 0.5\n", file: file).budgetPolicy() }
        #expect(throws: ConfigError.self) { try Configuration(text: "[budget]\nbound_overhead = -1\n", file: file).budgetPolicy() }
    }

    @Test func callsWaitTheirTurnForAConnection() async throws {
        let slots = ConnectionSlots(limit: 2)
        #expect(try await slots.acquire(until: Date().addingTimeInterval(1)))
        #expect(try await slots.acquire(until: Date().addingTimeInterval(1)))
        // Both in use: a third waits, and gives up at its deadline.
        #expect(try await !slots.acquire(until: Date().addingTimeInterval(0.05)))
        // Freed while it waits: it gets it.
        async let third = slots.acquire(until: Date().addingTimeInterval(5))
        slots.release()
        #expect(try await third)
        #expect(slots.open == 2)
    }
}
