import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

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

    /// A shared budget set from the command line binds every agent's calls
    /// inside with-shared-budget, across runs, and resets on its own.
    @Test func aSharedBudgetBindsEveryAgentAcrossRuns() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let set = try runOmega(["tokens", "budget", "--shared", "team-research", "150"], environment: s.environment)
        #expect(set.status == 0 && set.stdout.contains("shared team-research: 150 tokens"), "\(set.stdout)\(set.stderr)")
        let call = { (agent: String) in
            "(with-agent \"\(agent)\" (lambda () (with-shared-budget \"team-research\" (lambda () (effect infer.op \"a question\" 'max-tokens 60)))))"
        }
        // Two agents in two runs: the second run is refused by what the first spent.
        var statuses: [Int32] = []
        for agent in ["alice", "bob", "carol"] { statuses.append(try run(s, call(agent)).status) }
        #expect(statuses.first == 0 && statuses.contains(3), "\(statuses)")
        let refused = try run(s, call("dave"))
        #expect(refused.status == 3 && refused.stderr.contains("shared budget team-research would exceed its limit of 150 tokens"), "\(refused.stderr)")
        // Calls outside it are free of it.
        #expect(try run(s, "(with-agent \"dave\" (lambda () (effect infer.op \"a question\" 'max-tokens 60)))").status == 0)
        // Its own reset starts it again.
        let reset = try runOmega(["tokens", "reset", "--shared", "team-research", "--yes"], environment: s.environment)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try run(s, call("dave")).status == 0)
        let both = try runOmega(["tokens", "budget", "--shared", "--agent", "x", "5"], environment: s.environment)
        #expect(both.status == 2)
    }

    /// Seed 002's per-agent limit across runs: two runs of a script spend at
    /// most the limit between them; status shows the agent's total; a reset
    /// of the agent says what it held and lets the next run through.
    @Test func anAgentLimitAddsUpAcrossRunsOfAScript() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let config = try s.write("c.toml", """
            [token_budget]
            warning_threshold = 80
            [token_budget.per_agent_limits]
            code-reviewer = 3000
            [budget.models."gpt-4o"]
            daily = 100000
            """)
        let script = try s.write("review.scm", """
            (define (review n)
              (with-agent "code-reviewer"
                (lambda ()
                  (guard (e ((budget-exceeded? e) (display "refused after ") (display n) (newline) n))
                    (let loop ((i 0))
                      (if (< i 12)
                          (begin (effect infer.op (list "Review change " i) 'model "gpt-4o" 'max-tokens 200)
                                 (loop (+ i 1)))
                          i))))))
            (review 0)
            """)
        let first = try runOmega(["--config", config, script], environment: s.environment)
        let second = try runOmega(["--config", config, script], environment: s.environment)
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)\(second.stderr)")
        #expect(second.stdout.contains("refused"), "the second run is refused where the first left off")
        let ledger = try Ledger(path: s.ledger)
        let spent = try ledger.calls(from: .distantPast, to: .distantFuture).filter { $0.agent == "code-reviewer" }
            .reduce(Int64(0)) { $0 + $1.charged.tokens }
        #expect(spent > 1500 && spent <= 3000, "two runs spent \(spent) against 3000")

        let status = try runOmega(["tokens", "status", "--config", config], environment: s.environment)
        #expect(status.stdout.contains("By Agent (since the last reset):"), "\(status.stdout)")
        #expect(status.stdout.contains("code-reviewer") && status.stdout.contains("\(Dashboard.grouped(spent)) of 3,000"), "\(status.stdout)")
        let json = try runOmega(["tokens", "status", "--config", config, "--json"], environment: s.environment)
        let board = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let agent = (board?["agents"] as? [[String: Any]])?.first
        #expect(agent?["agent"] as? String == "code-reviewer" && (agent?["used_tokens"] as? Int).map(Int64.init) == spent)
        #expect(agent?["limit_tokens"] as? Int == 3000)

        let reset = try runOmega(["tokens", "reset", "--agent", "code-reviewer", "--yes", "--config", config], environment: s.environment)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout.contains("agent code-reviewer: count started again (it held \(Dashboard.grouped(spent)) tokens"), "\(reset.stdout)")
        let third = try runOmega(["--config", config, script], environment: s.environment)
        #expect(third.status == 0 && !third.stdout.contains("refused after 0"), "\(third.stdout)")
        // The model's daily budget counted all three runs.
        let all = try ledger.calls(from: .distantPast, to: .distantFuture).reduce(Int64(0)) { $0 + $1.charged.tokens }
        let day = CalendarWindows(timeZone: .current).key(.day, at: Date())
        #expect(try ledger.windowTotal("day:\(day)/model:gpt-4o").tokens == all)
    }

    @Test func aModelsDailyBudgetAndTheTotalCanBeSetFromTheCommandLine() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        let daily = try runOmega(["tokens", "budget", "--model", "gpt-4o", "--daily", "400"], environment: s.environment)
        #expect(daily.stdout.contains("model gpt-4o's daily budget: 400 tokens"), "\(daily.stdout)\(daily.stderr)")
        let total = try runOmega(["tokens", "budget", "--total", "5k"], environment: s.environment)
        #expect(total.stdout.contains("total budget: 5,000 tokens"))
        let call = "(effect infer.op \"hello there\" 'model \"gpt-4o\" 'max-tokens 150)"
        var refusal: String?
        for _ in 0..<8 where refusal == nil {
            let r = try run(s, call)
            if r.status == 3 { refusal = r.stderr } else { #expect(r.status == 0, "\(r.stderr)") }
        }
        #expect(refusal?.contains("model gpt-4o's daily budget") == true, "\(refusal ?? "never refused")")
        let ledger = try Ledger(path: s.ledger)
        let spent = try ledger.calls(from: .distantPast, to: .distantFuture).filter { $0.model == "gpt-4o" }
            .reduce(Int64(0)) { $0 + $1.charged.tokens }
        #expect(spent > 0 && spent <= 400, "runs spent \(spent) against the model's 400 a day")
        #expect(try run(s, "(effect infer.op \"hello there\" 'model \"gpt-4o-mini\" 'max-tokens 150)").status == 0)
        let both = try runOmega(["tokens", "budget", "--total", "--daily", "5"], environment: s.environment)
        #expect(both.status == 2 && both.stderr.contains("the total has no window"))
    }

    /// A model without a price costs "unknown" in reports, never $0; under
    /// a money budget it is an error that suggests the nearest known names.
    @Test func anUnpricedModelIsNeverAFreeCall() throws {
        let s = try Scratch()
        defer { s.cleanUp() }
        #expect(try run(s, "(effect infer.op \"hello\" 'model \"gtp-4o\" 'max-tokens 20)").status == 0)
        let text = try runOmega(["tokens", "report", "--simulated"], environment: s.environment)
        #expect(text.stdout.contains("unpriced") && text.stdout.contains("Unpriced:  1 call to models without a price"), "\(text.stdout)")
        let json = try runOmega(["tokens", "report", "--simulated", "--json"], environment: s.environment)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["total"] as? [String: Any])?["unpriced_calls"] as? Int == 1)
        let money = try run(s, "(with-budget (budget 'usd 1) (lambda () (effect infer.op \"hello\" 'model \"gtp-4o\")))")
        #expect(money.status == 1 && money.stderr.contains("no price for model gtp-4o (did you mean gpt-4o"), "\(money.stderr)")
        #expect(money.stderr.hasPrefix("<-e>:1:") || money.stderr.contains("\n<-e>:1:"), "the error names the user's call: \(money.stderr)")
        let count = try runOmega(["count", "--model", "gtp-4o"], stdin: "hello", environment: s.environment)
        #expect(count.stderr.contains("gtp-4o is not a model Omega knows (did you mean gpt-4o"), "\(count.stderr)")
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
