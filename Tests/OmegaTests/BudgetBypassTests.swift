import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Ways past a budget that bad replies, scripts or disks once opened
/// (issue 14): each is refused or charged at its worst case.
@Suite(.serialized) struct BudgetBypassTests {
    static func reply(prompt: String, completion: String) -> StubServer.Reply {
        .init(chunks: ["""
            {"id":"c","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":\(prompt),"completion_tokens":\(completion)}}
            """])
    }

    /// Negative, huge and overflowing usage is a bad reply: charged at the
    /// reservation's worst case, and under a budget the run stops.
    @Test(arguments: [("-1000000", "absurd negative"), ("9223372036854775807", "Int64.max"), ("1e30", "1e30"),
                      ("18446744073709551616", "2^64")])
    func impossibleUsageIsChargedAtItsWorstCase(completion: String, what: String) throws {
        let server = try StubServer(Array(repeating: Self.reply(prompt: "10", completion: completion), count: 20))
        defer { server.close() }
        let r = try runOmega(["--backend", "openai", "--ledger", "none", "-e", """
            (with-budget 1000 (lambda ()
              (let loop ((i 0) (errors 0))
                (if (< i 20)
                    (loop (+ i 1) (guard (e ((effect-error? e) (+ errors 1))) (effect infer.op "hi" 'max-tokens 100) errors))
                    (list errors (budget-spent))))))
            """], environment: ["OPENAI_BASE_URL": server.baseURL + "/v1", "OPENAI_API_KEY": "sk-test"])
        #expect(r.status == 3, "\(what): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("reported impossible usage"), "\(what): \(r.stderr)")
        #expect(server.requests.count == 1, "\(what): the run stopped after the first bad reply")
    }

    /// Outside any budget a bad reply is an error the script sees; the spend is the worst case, not the reply's.
    @Test func impossibleUsageWithoutABudgetIsAnErrorChargedAtTheWorstCase() throws {
        let server = try StubServer([Self.reply(prompt: "10", completion: "-5")])
        defer { server.close() }
        let r = try runOmega(["--backend", "openai", "--ledger", "none", "-e", """
            (guard (e ((effect-error? e) (list (effect-error-kind e) (budget-spent))))
              (effect infer.op "hi" 'max-tokens 100))
            """], environment: ["OPENAI_BASE_URL": server.baseURL + "/v1", "OPENAI_API_KEY": "sk-test"])
        #expect(r.status == 0, "\(r.stderr)")
        let spent = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).dropLast().split(separator: " ").last ?? "") ?? -1
        #expect(r.stdout.hasPrefix("(bad-response ") && spent >= 100, "\(r.stdout)")
    }

    /// A ledger that cannot record spend refuses further calls (fail closed);
    /// `[ledger] on_failure = "continue"` goes on, with a warning.
    @Test func aLedgerThatCannotRecordRefusesLaterCalls() throws {
        for failOpen in [false, true] {
            let path = MeterTests.tempLedger()
            defer { MeterTests.removeLedger(path) }
            // The spool's directory is a file, and the database takes no writes: nowhere to record.
            _ = FileManager.default.createFile(atPath: path + "-spool", contents: Data())
            let ledger = try Ledger(path: path)
            try ledger.db.execute("PRAGMA query_only = 1")
            var policy = BudgetPolicy()
            policy.run = [.tokens: 100_000]   // (a window would already fail at its reservation)
            policy.ledgerFailOpen = failOpen
            var reports: [String] = []
            let meter = Meter(policy: policy, ledger: ledger, report: { reports.append($0) })
            try MeterTests.call(meter, output: 40)          // made before the failure was known
            #expect(reports.contains { $0.contains("could not") && $0.contains("record") }, "\(reports)")
            if failOpen {
                #expect(try MeterTests.call(meter, output: 40))
            } else {
                #expect(throws: LedgerError.self) { try MeterTests.call(meter, output: 40) }
            }
        }
        // With a working database the spool's failure loses nothing: the call goes straight in.
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        _ = FileManager.default.createFile(atPath: path + "-spool", contents: Data())
        let ledger = try Ledger(path: path)
        let meter = Meter(ledger: ledger, report: { _ in })
        try MeterTests.call(meter, output: 40)
        try MeterTests.call(meter, output: 40)
        #expect(try ledger.calls(ofRun: meter.runID).count == 2)
    }

    /// Damaged spool lines (garbage, negative or huge counts) are left out
    /// with a warning naming file and line; the totals stay sane.
    @Test func damagedSpoolLinesAreRejectedByName() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        do { _ = try Ledger(path: path) }
        let call = Ledger.Call(time: Date(), runID: "run-x", sequence: 1, script: "s", model: "gpt-4o", backend: "openai",
                               agent: nil, workflow: nil, operation: "infer.op", usage: TokenUsage(inputTokens: 10, outputTokens: 20),
                               cost: nil, latency: 0, cacheHit: false, outcome: "ok", usageSource: "reported", requestID: "q",
                               requestKey: "k", answer: "a", finishReason: "stop", day: "2026-11-23", week: "2026-W48",
                               month: "2026-11", charged: Amounts(inputTokens: 10, outputTokens: 20, calls: 1))
        func line(_ c: Ledger.Call) -> String { String(decoding: SpoolLine.encode(SpooledCall(call: c, reservation: nil, cacheable: false)), as: UTF8.self) }
        var negative = call, huge = call
        negative.charged.outputTokens = -1_000_000
        huge.charged.inputTokens = Int64.max
        let text = [line(call), "garbage\twith\ttabs", line(negative), line(huge), line(call)].joined(separator: "\n") + "\n"
        // A spool left by a process that no longer exists (pid 2147483632).
        try FileManager.default.createDirectory(atPath: path + "-spool", withIntermediateDirectories: true)
        try text.write(toFile: path + "-spool/2147483632-1.spool", atomically: true, encoding: .utf8)
        let ledger = try Ledger(path: path)
        #expect(ledger.warnings.count == 3, "\(ledger.warnings)")
        #expect(ledger.warnings.first?.contains("ignored line 2 of \(path)-spool/2147483632-1.spool") == true, "\(ledger.warnings)")
        #expect(try ledger.windowTotal("day:2026-11-23") == Amounts(inputTokens: 20, outputTokens: 40, calls: 2))
    }

    /// A script cannot approve its own call with an option.
    @Test func budgetApprovedIsNotAnOption() throws {
        let r = try runOmega(["--ledger", "none", "--budget", "50", "-e",
                              "(effect infer.op \"write a long poem\" 'budget-approved #t 'max-tokens 500)"])
        #expect(r.status == 1 && r.stderr.contains("budget-approved is not an option"), "\(r.stderr)")
        // A handler still approves.
        let handled = try runOmega(["--ledger", "none", "--budget", "50", "-e",
            "(string? (with-exception-handler (lambda (c) #t) (lambda () (effect infer.op \"poem\" 'max-tokens 100))))"])
        #expect(handled.status == 0 && handled.stdout.contains("#t"), "\(handled.stderr)")
    }
}
