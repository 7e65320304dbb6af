import Foundation
import Testing
@testable import Omega

/// `omega tokens budget|reset|report` against real ledgers and real runs.
@Suite(.serialized) struct TokensCLITests {
    typealias Scratch = LedgerCLITests.Scratch

    /// Runs `omega -e EXPR` on the scratch ledger.
    func run(_ s: Scratch, _ expr: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runOmega(extra + ["-e", expr], environment: s.environment)
    }

    @Test func aBudgetSetFromTheCommandLineBindsLaterRuns() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let set = try runOmega(["tokens", "budget", "sprint", "100"], environment: s.environment)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("workflow sprint: 100 tokens"))
        let refused = try run(s, "(with-workflow \"sprint\" (lambda () (effect infer.op \"hello there\")))")
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("workflow sprint would exceed its limit of 100 tokens"), "\(refused.stderr)")
        // A flag still beats it for the run budget; other workflows are free.
        #expect(try run(s, "(with-workflow \"other\" (lambda () (effect infer.op \"hello there\")))").status == 0)

        let agent = try runOmega(["tokens", "budget", "--agent", "reviewer", "50k"], environment: s.environment)
        #expect(agent.stdout.contains("agent reviewer: 50,000 tokens"))
        let money = try runOmega(["tokens", "budget", "--daily", "--unit", "usd", "2.50"], environment: s.environment)
        #expect(money.status == 0 && money.stdout.contains("daily budget: $2.50"), "\(money.stdout)\(money.stderr)")
        let listed = try runOmega(["tokens", "budget"], environment: s.environment)
        #expect(listed.stdout.contains("workflow sprint: 100 tokens") && listed.stdout.contains("agent reviewer: 50,000 tokens"))

        let removed = try runOmega(["tokens", "budget", "sprint", "none"], environment: s.environment)
        #expect(removed.stdout.contains("removed"))
        #expect(try run(s, "(with-workflow \"sprint\" (lambda () (effect infer.op \"hello there\")))").status == 0)

        let bad = try runOmega(["tokens", "budget", "sprint", "lots"], environment: s.environment)
        #expect(bad.status == 1 && bad.stderr.contains("expected an amount of tokens, got 'lots'"))
        let usage = try runOmega(["tokens", "budget", "--daily", "--weekly", "5"], environment: s.environment)
        #expect(usage.status == 2)
    }

    @Test func resetStartsTheDaysCountAgainButKeepsTheCalls() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("c.toml", "[budget.daily]\ntokens = 700\n")
        let call = "(string? (effect infer.op \"hello there\" 'max-tokens 300))"
        #expect(try run(s, call, ["--config", config]).status == 0)
        #expect(try run(s, call, ["--config", config]).status == 0)
        let refused = try run(s, call, ["--config", config])
        #expect(refused.status == 3, "\(refused.stderr)")

        let unconfirmed = try runOmega(["tokens", "reset"], stdin: "", environment: s.environment)
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("needs confirmation"))
        let reset = try runOmega(["tokens", "reset", "day", "--yes", "--config", config], environment: s.environment)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout.contains("count started again"))
        #expect(try run(s, call, ["--config", config]).status == 0)

        let ledger = try Ledger(path: s.ledger)
        #expect(try LedgerCLITests.count(ledger, "SELECT COUNT(*) FROM calls WHERE outcome = 'ok'") == 3)
        #expect(try LedgerCLITests.count(ledger, "SELECT COUNT(*) FROM resets WHERE window LIKE 'day:%' AND window NOT LIKE '%/%'") == 1)
        #expect(try LedgerCLITests.count(ledger, "SELECT COUNT(*) FROM resets WHERE window NOT LIKE 'day:%'") == 0, "only the day was reset")
        let status = try runOmega(["tokens", "status", "--config", config], environment: s.environment)
        let after = try ledger.calls(from: .distantPast, to: .distantFuture).last?.charged.tokens ?? -1
        #expect(status.stdout.contains("\(after) / 700 tokens"), "\(status.stdout)")
        let badScope = try runOmega(["tokens", "reset", "--yes", "--scope", "year"], environment: s.environment)
        #expect(badScope.status == 1 && badScope.stderr.contains("unknown budget count 'year' (total, day, week, month or all)"))
    }

    @Test func reportsShowUsageTrendForecastAndAdvice() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("c.toml", "[budget.daily]\ntokens = 100000000\n")
        // The same request twice on an expensive model, in a workflow.
        let expr = """
            (with-workflow "sprint" (lambda ()
              (effect infer.op "Summarise the budget" 'model "gpt-4o" 'max-tokens 200)
              (effect infer.op "Summarise the budget" 'model "gpt-4o" 'max-tokens 200)
              (effect infer.op "Other" 'model "gpt-4o-mini" 'max-tokens 50)))
            """
        #expect(try run(s, expr, ["--config", config]).status == 0)
        // Simulated calls are dry runs, not spending: kept apart unless asked for.
        let dry = try runOmega(["tokens", "report", "--config", config, "--by", "workflow"], environment: s.environment)
        #expect(dry.stdout.contains("no calls this day") && dry.stdout.contains("Simulated: 3 calls"), "\(dry.stdout)")
        #expect(!dry.stdout.contains("from gpt-4o to gpt-4o-mini"), "no advice from dry runs")
        let status = try runOmega(["tokens", "status", "--config", config, "--json"], environment: s.environment)
        let board = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect(board?["cost_today_usd"] as? String == "0.00", "\(status.stdout)")
        #expect((board?["simulated_today"] as? [String: Any])?["calls"] as? Int == 3)
        let text = try runOmega(["tokens", "report", "--config", config, "--by", "workflow", "--simulated"], environment: s.environment)
        #expect(text.status == 0, "\(text.stderr)")
        for part in ["Token usage report — daily", "sprint", "Total", "Budget:", "Forecast:", "Previous:", "Alerts:",
                     "Recommendations:", "caching", "from gpt-4o to gpt-4o-mini", "far above use"] {
            #expect(text.stdout.contains(part), "missing \(part) in\n\(text.stdout)")
        }

        let json = try runOmega(["tokens", "report", "--json", "--weekly", "--simulated"], environment: s.environment)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["period"] as? String == "weekly")
        let total = object?["total"] as? [String: Any]
        #expect(total?["calls"] as? Int == 3)
        let ledger = try Ledger(path: s.ledger)
        let spent = try ledger.calls(from: .distantPast, to: .distantFuture).reduce(Int64(0)) { $0 + $1.charged.tokens }
        #expect((total?["tokens"] as? Int).map(Int64.init) == spent)

        let csv = try runOmega(["tokens", "report", "--csv", "--monthly", "--by", "model", "--simulated"], environment: s.environment)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "period,window,model,calls,input_tokens,output_tokens,tokens,cost_usd")
        #expect(lines.count == 4)   // header, gpt-4o, gpt-4o-mini, total
        #expect(lines.contains { $0.contains(",gpt-4o,2,") })

        let bad = try runOmega(["tokens", "report", "--by", "colour"], environment: s.environment)
        #expect(bad.status == 2 && bad.stderr.contains("--by"))
    }
}
