import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The ledger and budget stops through the `omega` command: real processes
/// sharing one SQLite file, `kill -9`, `--resume`, exit status 3.
@Suite(.serialized) struct LedgerCLITests {
    /// A scratch directory with a script and a ledger path.
    struct Scratch {
        let dir: URL
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-ledger-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        var ledger: String { dir.appendingPathComponent("ledger.sqlite").path }
        func write(_ name: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        var environment: [String: String] {
            ProcessInfo.processInfo.environment.merging(["OMEGA_LEDGER": ledger]) { $1 }
        }
        func cleanUp() { try? FileManager.default.removeItem(at: dir) }
    }

    static func count(_ ledger: Ledger, _ sql: String) throws -> Int64 {
        var n: Int64 = 0
        try ledger.db.query(sql) { n = $0.int(0) }
        return n
    }

    @Test func twoProcessesShareADailyBudgetWithoutOverspending() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("config.toml", "[budget.daily]\ntokens = 6000\n")
        let script = try s.write("hammer.scm", """
            (define tag (cadr (command-line)))
            (define n 0)
            (let loop ((i 0))
              (when (guard (e ((budget-exceeded? e) #f))
                      (effect infer.op (string-append tag (number->string i)) 'max-tokens 50 'simulate-latency 0.002)
                      #t)
                (set! n (+ n 1))
                (loop (+ i 1))))
            (display n)
            """)
        let a = try startOmega(["--config", config, script, "a"], environment: s.environment)
        let b = try startOmega(["--config", config, script, "b"], environment: s.environment)
        defer { a.cleanUp(); b.cleanUp() }
        #expect(a.wait() == 0, "\(a.stderr)")
        #expect(b.wait() == 0, "\(b.stderr)")
        let na = Int64(a.stdout) ?? -1, nb = Int64(b.stdout) ?? -1
        #expect(na > 10 && nb > 10, "both processes made calls: \(na), \(nb)")
        let ledger = try Ledger(path: s.ledger)
        let rows = try Self.count(ledger, "SELECT COUNT(*) FROM calls")
        #expect(rows == na + nb, "every call recorded once")
        let charged = try Self.count(ledger, "SELECT SUM(charged_input + charged_output) FROM calls")
        #expect(charged <= 6000)
        #expect(charged > 6000 - 3 * 60, "both ran until the day's budget was nearly gone: \(charged)")
        let day = CalendarWindows(timeZone: .current).key(.day, at: Date())
        #expect(try ledger.windowTotal("day:\(day)").tokens == charged)
        #expect(try Self.count(ledger, "SELECT COUNT(*) FROM reservations") == 0)
    }

    @Test func killNineLosesNoSettledCall() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let script = try s.write("long.scm", """
            (let loop ((i 0))
              (when (< i 100000)
                (let ((r (effect int.op (number->string i) 'max-tokens 20 'simulate-latency 0.003)))
                  (display (result-request-id r)) (newline) (flush-output-port))
                (loop (+ i 1))))
            """)
        let p = try startOmega([script], environment: s.environment)
        defer { p.cleanUp() }
        let deadline = Date().addingTimeInterval(60)
        while p.stdout.split(separator: "\n").count < 40 && Date() < deadline { usleep(20_000) }
        kill(p.pid, SIGKILL)
        #expect(p.wait() == 128 + SIGKILL)
        let printed = p.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("req-") }
        #expect(printed.count >= 40)
        let ledger = try Ledger(path: s.ledger)
        var recorded = Set<String>()
        try ledger.db.query("SELECT request_id FROM calls") { recorded.insert($0.text(0) ?? "") }
        let lost = printed.filter { !recorded.contains($0) }
        #expect(lost.isEmpty, "calls the script saw settle but the ledger lost: \(lost)")
        // The killed run is marked so when the next process opens the ledger, with what it settled.
        #expect(try Self.count(ledger, "SELECT COUNT(*) FROM runs WHERE outcome = 'running'") == 0)
        #expect(try Self.count(ledger, "SELECT COUNT(*) FROM runs WHERE outcome = 'killed' AND calls = \(recorded.count) AND ended IS NOT NULL") == 1)
        let tokens = try Self.count(ledger, "SELECT SUM(charged_input + charged_output) FROM calls")
        let runTokens = try Self.count(ledger, "SELECT input_tokens + output_tokens FROM runs")
        #expect(tokens > 0 && runTokens == tokens)
    }

    @Test func resumeAnswersCompletedCallsFromTheLedgerAtNoCost() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let script = try s.write("steps.scm", """
            (define crash? (member "crash" (command-line)))
            (let loop ((i 0))
              (when (< i 5)
                (when (and crash? (= i 3)) (error "crashed at step" i))
                (display (string-length (effect infer.op (string-append "step " (number->string i)) 'max-tokens 30)))
                (newline)
                (loop (+ i 1))))
            """)
        let crashed = try runOmega([script, "crash"], environment: s.environment)
        #expect(crashed.status == 1 && crashed.stderr.contains("crashed at step 3"))
        let ledger = try Ledger(path: s.ledger)
        var runID = ""
        try ledger.db.query("SELECT id FROM runs ORDER BY started DESC LIMIT 1") { runID = $0.text(0) ?? "" }
        #expect(try ledger.run(runID)?.outcome == "error")

        let resumed = try runOmega(["--resume", runID, script], environment: s.environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(runID): 3 completed calls"))
        let fresh = try runOmega(["--ledger", "none", script])
        #expect(resumed.stdout == fresh.stdout, "the resumed run gives the same answers")
        var newRun = ""
        try ledger.db.query("SELECT id FROM runs WHERE resumed_from = ?".replacingOccurrences(of: "?", with: "'\(runID)'")) { newRun = $0.text(0) ?? "" }
        let calls = try ledger.calls(ofRun: newRun)
        #expect(calls.count == 5)
        #expect(calls.prefix(3).allSatisfy { $0.cacheHit && $0.charged == Amounts() })
        #expect(calls.suffix(2).allSatisfy { !$0.cacheHit && $0.charged.tokens > 0 })

        let unknown = try runOmega(["--resume", "run-nope", script], environment: s.environment)
        #expect(unknown.status == 2 && unknown.stderr.contains("no run run-nope"))
    }

    @Test func aBudgetStopExitsWithStatusThreeAndOneLine() throws {
        let call = "(effect infer.op \"hello\" 'max-tokens 100)"
        let flag = try runOmega(["--ledger", "none", "--budget", "50", "-e", call])
        #expect(flag.status == 3)
        #expect(flag.stderr.hasPrefix("omega: stopped by a budget: run would exceed its limit of 50 tokens (current: 0, requested: 10"), "\(flag.stderr)")
        #expect(flag.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") }.count == 1)

        let env = ProcessInfo.processInfo.environment.merging(["OMEGA_TOKEN_BUDGET": "50", "OMEGA_LEDGER": "none"]) { $1 }
        #expect(try runOmega(["-e", call], environment: env).status == 3)
        // The flag beats the environment.
        #expect(try runOmega(["--budget", "5000", "-e", call], environment: env).status == 0)
        // The tracker's agent message, from its own configuration layout.
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("tracker.toml", "[token_budget]\ntotal_budget = 100000\nwarning_threshold = 50\n[token_budget.per_agent_limits]\nexpensive-agent = 150\n")
        let agent = try runOmega(["--ledger", "none", "--config", config, "-e",
            "(with-agent \"expensive-agent\" (lambda () \(call) \(call)))"])
        #expect(agent.status == 3)
        #expect(agent.stderr.contains("agent expensive-agent would exceed its limit of 150 tokens (current: "), "\(agent.stderr)")
        #expect(agent.stderr.contains("has used"), "the 50% warning")
        let warnEnv = ProcessInfo.processInfo.environment.merging(["OMEGA_TOKEN_WARNING_THRESHOLD": "loud", "OMEGA_LEDGER": "none"]) { $1 }
        #expect(try runOmega(["-e", "1"], environment: warnEnv).status == 2)
        let badEnv = ProcessInfo.processInfo.environment.merging(["OMEGA_TOKEN_BUDGET": "lots", "OMEGA_LEDGER": "none"]) { $1 }
        let bad = try runOmega(["-e", "1"], environment: badEnv)
        #expect(bad.status == 2 && bad.stderr.contains("$OMEGA_TOKEN_BUDGET"))

        // A handler that declines stops the run too; one that approves lets it go on.
        let declined = try runOmega(["--ledger", "none", "-e",
            "(with-exception-handler (lambda (c) #f) (lambda () (with-budget 10 (lambda () \(call)))))"])
        #expect(declined.status == 3, "\(declined.stderr)")
        let approved = try runOmega(["--ledger", "none", "-e",
            "(string? (with-exception-handler (lambda (c) 1000) (lambda () (with-budget 10 (lambda () \(call))))))"])
        #expect(approved.status == 0 && approved.stdout == "#t\n")
        // A refusal caught by guard is an ordinary value: exit 0.
        let caught = try runOmega(["--ledger", "none", "-e",
            "(guard (e ((budget-exceeded? e) (budget-exceeded-limit e))) (with-budget 10 (lambda () \(call))))"])
        #expect(caught.status == 0 && caught.stdout == "10\n")
    }

    @Test func forecastsComeFromEarlierRunsInTheLedger() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let record = "(with-task '(summarize 10 documents) (lambda () (for-each (lambda (i) (effect infer.op (number->string i) 'max-tokens 100)) (iota 10)))) (display (budget-spent))"
        let first = try runOmega(["-e", record], environment: s.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let spent = Int(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let forecast = try runOmega(["-e", "(forecast-budget-details '(summarize 20 documents))"], environment: s.environment)
        #expect(forecast.status == 0, "\(forecast.stderr)")
        #expect(forecast.stdout.contains("(forecast . \(Int((Double(spent * 2) * 1.5).rounded(.up))))"), "\(forecast.stdout) after \(spent)")
        #expect(forecast.stdout.contains("(source . history)"))
    }

    /// examples/manual holds chapter 48's code as printed, with only the two
    /// helpers the manual leaves undefined (expensive-operation, sum).
    @Test func theManualsCodeRunsAsPrinted() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let dir = packageRoot.appendingPathComponent("examples/manual")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".scm") }.sorted()
        #expect(files.count == 7)
        // The chapter as the manual prints it (a copy of seeds/004).
        let chapter = try String(contentsOf: packageRoot.appendingPathComponent("Tests/fixtures/manual-chapter-48.md"), encoding: .utf8)
        var out: [String: (stdout: String, stderr: String)] = [:]
        for section in 1...7 {
            guard let f = files.first(where: { $0.hasPrefix("48-\(section)-") }) else { Issue.record("no file for 48.\(section)"); continue }
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            // The section's first code block, up to its first Ω> line: the file holds it word for word.
            let part = chapter.components(separatedBy: "### 48.\(section) ").dropFirst().first ?? ""
            let block = part.components(separatedBy: "```lisp\n").dropFirst().first?.components(separatedBy: "```").first ?? ""
            var lines = block.components(separatedBy: "\n").prefix { !$0.hasPrefix("Ω>") }
            while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
            #expect(lines.count > 3 && text.contains(lines.joined(separator: "\n")), "\(f) does not hold 48.\(section) as printed")
            let r = try runOmega([dir.appendingPathComponent(f).path], environment: s.environment)
            #expect(r.status == 0, "\(f): \(r.stderr)")
            out[f] = (r.stdout, r.stderr)
        }
        #expect(out["48-3-allocation.scm"]?.stdout.hasPrefix("(50000 100000/3 50000/3)") == true)
        #expect(out["48-5-monitoring.scm"]?.stdout.contains("(Budget used: ") == true)
        #expect(out["48-5-monitoring.scm"]?.stdout.contains("tokens/sec)") == true)
        #expect(out["48-6-emergency.scm"]?.stdout.hasPrefix("(emergency ") == true)
        // With no history the forecast says so and comes from a dry run (nothing charged).
        let forecast = out["48-7-forecasting.scm"]
        #expect(forecast?.stderr.contains("no history of tasks like (summarize 100 documents); forecasting from a dry run") == true)
        #expect(Double(forecast?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "").map { $0 > 0 } == true)
        let ledger = try Ledger(path: s.ledger)
        let calls = try ledger.calls(from: .distantPast, to: .distantFuture)
        #expect(!calls.isEmpty && !calls.contains { $0.script.hasSuffix("48-7-forecasting.scm") }, "the dry run charged nothing")
    }

    @Test func theManualsExamplesRunAsWritten() throws {
        let dir = packageRoot.appendingPathComponent("examples/budget")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("manual-") }.sorted()
        #expect(files.count == 8)
        var out: [String: String] = [:]
        for f in files {
            let r = try runOmega([dir.appendingPathComponent(f).path])
            #expect(r.status == 0, "\(f): \(r.stderr)")
            out[f.replacingOccurrences(of: "manual-", with: "")] = r.stdout
        }
        #expect(out["48-1-token-budgets.scm"]?.contains("stopped before overspending") == true)
        #expect(out["48-1-token-budgets.scm"]?.contains("Budget exceeded") == true)
        #expect(out["48-3-allocation.scm"]?.hasPrefix("((research . 50000) (writing . 33333) (editing . 16667))") == true)
        #expect(out["48-4-quality.scm"]?.contains("(high 2000 → Insufficient budget for high quality)") == true)
        #expect(out["48-5-monitoring.scm"]?.contains("tokens/sec") == true)
        #expect(out["48-6-emergency.scm"]?.contains("(under 5000: economy gpt-4o-mini") == true)
        #expect(out["48-6-emergency.scm"]?.contains("emergency gpt-4o 150 cache)") == true)
        #expect(out["48-7-forecasting.scm"]?.contains("(source . history)") == true)
    }

    @Test func tokensStatusDrawsTheDashboardFromTheLedger() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("c.toml", "[budget.daily]\ntokens = 20000\n[budget.workflows.sprint]\ntokens = 5000\n")
        let run = try runOmega(["--config", config, "-e",
            "(with-workflow \"sprint\" (lambda () (effect infer.op \"a\" 'model \"gpt-4o\" 'max-tokens 300) (display (budget-spent))))"],
            environment: s.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let spent = Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let status = try runOmega(["tokens", "status", "--config", config], environment: s.environment)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("TOKEN USAGE DASHBOARD"))
        #expect(status.stdout.contains("\(spent) / 20,000 tokens"), "\(status.stdout)")
        #expect(status.stdout.contains("Current Workflow (sprint)"))
        #expect(status.stdout.contains("gpt-4o"))
        #expect(!status.stdout.contains("\u{1B}["), "no colour when not a terminal")
        let none = try runOmega(["tokens", "status", "--ledger", "none"])
        #expect(none.status == 1 && none.stderr.contains("no ledger"))
    }

    @Test func alertsReachEachChannelFromItsThreshold() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let server = try StubServer([StubServer.Reply(chunks: ["ok"]), StubServer.Reply(chunks: ["ok"])])
        defer { server.close() }
        let file = s.dir.appendingPathComponent("alerts.jsonl").path
        let marks = s.dir.appendingPathComponent("command.txt").path
        // A sendmail-compatible program that keeps what it is given.
        let mailbox = s.dir.appendingPathComponent("mailbox.txt").path
        let sendmail = try s.write("sendmail", "#!/bin/sh\n[ \"$1\" = -t ] || exit 9\ncat >> \(mailbox)\n")
        chmod(sendmail, 0o755)
        let config = try s.write("c.toml", """
            [budget.run]
            tokens = 1000
            [alerts.console]
            threshold = 70
            [alerts.file]
            path = "\(file)"
            threshold = "80%"
            [alerts.webhook]
            url = "\(server.baseURL)/hook"
            threshold = 90
            [alerts.command]
            run = "echo \\"$OMEGA_ALERT_KIND $OMEGA_ALERT_PERCENT\\" >> \(marks)"
            threshold = 90
            [alerts.email]
            to = "finance@example.com"
            sendmail = "\(sendmail) -t"
            threshold = 100
            """)
        let r = try runOmega(["--ledger", "none", "--config", config, "-e",
            "(let loop ((i 0)) (when (< i 30) (guard (e (#t #f)) (effect infer.op (number->string i) 'max-tokens 40)) (loop (+ i 1))))"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("has used 7"), "console from 70%: \(r.stderr)")
        let lines = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.count == 3, "the 80% and 90% crossings and the refusal: \(lines)")
        #expect(lines.last?.contains("\"kind\":\"refused\"") == true)
        #expect(!r.stderr.contains("call refused"), "the console does not repeat a refusal the program handled")
        let first = try JSONSerialization.jsonObject(with: Data(lines.first.map(String.init)?.utf8 ?? "{}".utf8)) as? [String: Any]
        #expect(first?["scope"] as? String == "run" && first?["limit"] as? String == "1000")
        #expect((first?["recommendation"] as? String)?.isEmpty == false)
        #expect((first?["text"] as? String)?.contains("Remaining:") == true)
        let hook = server.requests.first { $0.path == "/hook" }
        #expect(hook != nil, "the webhook got the 90% alert")
        #expect((hook?.json?["text"] as? String)?.contains("TOKEN BUDGET ALERT") == true)
        // The command channel (from 90 %) gets the 90 % crossing and the refusal; the
        // two commands run on their own, so they may finish in either order.
        let deadline = Date().addingTimeInterval(10)
        func marked() -> [String] { ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        while marked().count < 2 && Date() < deadline { usleep(20_000) }
        #expect(marked().contains { $0.hasPrefix("threshold 9") } && marked().contains { $0.hasPrefix("refused 10") }, "\(marked())")
        // The 100 % channel fires once, for the refusal (seed 001's "100 % block").
        let mailDeadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: mailbox, encoding: .utf8)) ?? "").contains("Recommendation") && Date() < mailDeadline {
            usleep(20_000)
        }
        let mail = (try? String(contentsOfFile: mailbox, encoding: .utf8)) ?? ""
        #expect(mail.hasPrefix("To: finance@example.com\nSubject: Omega budget alert: run (refused)"), "\(mail)")
        #expect(mail.contains("Current Usage: ") && mail.components(separatedBy: "To: ").count == 2, "\(mail)")
        let bad = try s.write("bad.toml", "[alerts.pager]\nthreshold = 50\n")
        let refused = try runOmega(["--ledger", "none", "--config", bad, "-e", "1"])
        #expect(refused.status == 2 && refused.stderr.contains("alerts.pager: unknown key in [alerts] (known: command, console, email, file, webhook)"))
    }

    /// A webhook that does not take an alert is reported (naming only its
    /// host), and the run goes on.
    @Test func aFailedWebhookIsReported() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("omega-hook-\(UUID().uuidString).toml").path
        defer { try? FileManager.default.removeItem(atPath: config) }
        // Port 9 (discard) on 127.0.0.1: nothing listens there in the test environment.
        try """
            [budget.run]
            tokens = 200
            [alerts.webhook]
            url = "http://127.0.0.1:9/secret-path"
            threshold = 50
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try runOmega(["--ledger", "none", "--config", config, "-e",
                              "(guard (e (#t #f)) (effect infer.op \"hello\" 'max-tokens 150)) (display 'went-on)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("went-on"))
        #expect(r.stderr.contains("omega: budget: the alert webhook at 127.0.0.1 did not take the threshold alert"), "\(r.stderr)")
        #expect(!r.stderr.contains("secret-path"))
    }

    @Test func theBudgetTourRuns() throws {
        let r = try runOmega(["--ledger", "none", packageRoot.appendingPathComponent("examples/budget/tour.scm").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("refused: \"budget tour.scm:"))
        #expect(r.stdout.contains("approved: "))
        #expect(r.stdout.contains("(\"gpt-4o-mini\""), "degradation switched the model")
    }

    @Test func aBadBudgetConfigurationStopsBeforeRunning() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("config.toml", "[budget.run]\ntokens = 100\nfurlongs = 2\n")
        let r = try runOmega(["--config", config, "-e", "(display 1)"], environment: s.environment)
        #expect(r.status == 2)
        #expect(r.stderr.contains("config.toml:3: budget.run.furlongs: unknown budget unit"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let badLedger = try runOmega(["--ledger", "/proc/nope/ledger.sqlite", "-e", "1"])
        #expect(badLedger.status == 2 && badLedger.stderr.contains("ledger"))
    }
}
