import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Limits that add up across runs (seeds 000–002): model, agent and
/// workflow limits and the total count everything the ledger recorded since
/// their reset; every limit can have a calendar window.
@Suite struct CumulativeBudgetTests {
    /// One run: a meter on the shared ledger that makes calls until refused;
    /// returns the tokens it spent.
    static func run(_ policy: BudgetPolicy, ledger: Ledger, agent: String? = nil, model: String = "gpt-4o",
                    calls: Int = 10, output: Int = 40, now: Date = Date()) -> (spent: Int64, refusal: BudgetExceeded?) {
        let meter = Meter(policy: policy, ledger: ledger, clock: { now }, report: { _ in })
        for _ in 0..<calls {
            var request = InferenceRequest(prompt: .text("x"), model: model, maxTokens: output, agent: agent,
                                           promptTokens: TokenCount(tokens: 10, exact: true, encoding: nil, note: nil))
            do {
                guard case .send(let r) = try meter.admit(&request, backend: "test") else { continue }
                meter.settle(request, reservation: r, outcome: .success(InferenceResult(
                    text: "ok", model: model, finishReason: "stop", usage: TokenUsage(inputTokens: 10, outputTokens: output),
                    usageSource: .reported, latency: 0, backend: "test", requestID: request.id)))
            } catch let e as BudgetExceeded {
                return (meter.runTotals.tokens, e)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        return (meter.runTotals.tokens, nil)
    }

    @Test func anAgentsLimitAddsUpAcrossRuns() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let ledger = try Ledger(path: path)
        var policy = BudgetPolicy()
        policy.agents["code-reviewer"] = [.tokens: 700]
        let first = Self.run(policy, ledger: ledger, agent: "code-reviewer")
        #expect(first.spent == 500 && first.refusal == nil)
        let second = Self.run(policy, ledger: ledger, agent: "code-reviewer")
        #expect(first.spent + second.spent <= 700, "two runs spent \(first.spent) + \(second.spent) against 700")
        #expect(second.refusal?.label == "agent code-reviewer")
        #expect(second.refusal?.description.contains("would exceed its limit of 700 tokens (current: \(first.spent + second.spent)") == true)
        // Another agent is not held back by it.
        #expect(Self.run(policy, ledger: ledger, agent: "test-gen", calls: 2).refusal == nil)
        // Resetting the agent starts its count again; the calls stay.
        let keys = try ledger.countersToReset(period: .total, kind: .agent, name: "code-reviewer",
                                              keys: CalendarWindows(timeZone: policy.timeZone).keys(at: Date()))
        #expect(keys == ["agent:code-reviewer"])
        let resets = try ledger.resetWindows(keys)
        #expect(resets.first?.cleared.tokens == first.spent + second.spent)
        #expect(Self.run(policy, ledger: ledger, agent: "code-reviewer", calls: 2).refusal == nil)
        #expect(try ledger.calls(from: .distantPast, to: .distantFuture).count >= 14)
    }

    @Test func aModelsDailyLimitFromTOMLHoldsAcrossRunsAndEndsWithTheDay() throws {
        let config = try Configuration(text: """
            [budget.models."gpt-4o"]
            daily = 300
            monthly = 2000000
            [budget.workflows.nightly]
            usd = 1.00
            weekly = { calls = 50 }
            """, file: URL(fileURLWithPath: "/tmp/c.toml"))
        let policy = try config.budgetPolicy()
        #expect(policy.periodic[.day]?[.model]?["gpt-4o"] == [.tokens: 300])
        #expect(policy.periodic[.month]?[.model]?["gpt-4o"] == [.tokens: 2_000_000])
        #expect(policy.periodic[.week]?[.workflow]?["nightly"] == [.calls: 50])
        #expect(policy.workflows["nightly"]?[.usd] == 1_000_000_000_000)
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let ledger = try Ledger(path: path)
        let monday = MeterTests.date("2026-11-23T10:00:00Z"), tuesday = MeterTests.date("2026-11-24T10:00:00Z")
        var p = policy
        p.timeZone = TimeZone(identifier: "UTC")!
        let a = Self.run(p, ledger: ledger, calls: 4, now: monday)
        let b = Self.run(p, ledger: ledger, calls: 4, now: monday)
        #expect(a.spent + b.spent <= 300)
        #expect(b.refusal?.label == "model gpt-4o's daily budget 2026-11-23", "\(String(describing: b.refusal))")
        // Another model is not limited; the next day starts again.
        #expect(Self.run(p, ledger: ledger, model: "gpt-4o-mini", calls: 4, now: monday).refusal == nil)
        #expect(Self.run(p, ledger: ledger, calls: 4, now: tuesday).refusal == nil)
        // The month counts both days.
        #expect(try ledger.windowTotal("month:2026-11/model:gpt-4o").tokens == a.spent + b.spent + 200)
    }

    @Test func theTotalCountsEveryRunAndResetsAsTheTrackerDoes() throws {
        let config = try Configuration(text: "[token_budget]\ntotal_budget = 500\n", file: URL(fileURLWithPath: "/tmp/c.toml"))
        let policy = try config.budgetPolicy()
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let ledger = try Ledger(path: path)
        let a = Self.run(policy, ledger: ledger, agent: "x", calls: 6)
        let b = Self.run(policy, ledger: ledger, agent: "y", calls: 6)
        #expect(a.spent + b.spent <= 500 && b.refusal?.label == "total budget")
        #expect(b.refusal?.description.hasPrefix("total budget would exceed its limit of 500 tokens") == true)
        // The tracker's reset: the total and every name's count since its reset; windows stay.
        let keys = try ledger.countersToReset(period: .total, kind: nil, name: nil,
                                              keys: CalendarWindows(timeZone: policy.timeZone).keys(at: Date()))
        #expect(Set(keys).isSuperset(of: ["total", "agent:x", "agent:y", "model:gpt-4o"]))
        #expect(!keys.contains { $0.hasPrefix("day:") })
        try ledger.resetWindows(keys)
        #expect(Self.run(policy, ledger: ledger, calls: 2).refusal == nil)
    }

    @Test func aLedgerFromBeforeCountersIsCountedFromItsCalls() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        let old = try SQLiteDatabase(path: path)
        for (i, m) in LedgerSchema.migrations.prefix(5).enumerated() { try old.execute(m + "; PRAGMA user_version = \(i + 1)") }
        for (agent, tokens) in [("a", 30), ("a", 20), ("b", 5)] {
            try old.run("""
                INSERT INTO calls(time, run_id, seq, script, model, backend, agent, operation, input_tokens, output_tokens,
                  cached_tokens, cache_write_tokens, reasoning_tokens, latency, cache_hit, outcome, usage_source, request_id,
                  request_key, day, week, month, charged_input, charged_output, charged_pd, charged_calls)
                VALUES (0, 'r', 1, 's', 'gpt-4o', 'openai', ?, 'infer', 0, 0, 0, 0, 0, 0, 0, 'ok', 'reported', 'q', 'k',
                  '2026-11-23', '2026-W48', '2026-11', ?, 0, 0, 1)
                """, [.text(agent), .int(Int64(tokens))])
        }
        let ledger = try Ledger(path: path)
        #expect(try ledger.windowTotal("agent:a").tokens == 50)
        #expect(try ledger.windowTotal("agent:b").tokens == 5)
        #expect(try ledger.windowTotal("total").calls == 3)
        #expect(try ledger.windowTotal("day:2026-11-23/model:gpt-4o").tokens == 55)
    }

    @Test func aKilledRunIsMarkedWithItsTotals() throws {
        let path = MeterTests.tempLedger()
        defer { MeterTests.removeLedger(path) }
        do {
            let ledger = try Ledger(path: path)
            // A run whose process is gone: pid 0x7FFFFFF0 does not exist.
            try ledger.db.run("INSERT INTO runs(id, script, started, pid, outcome) VALUES ('run-gone', 's', 0, 2147483632, 'running')")
            let meter = Meter(ledger: ledger, runID: "run-gone", report: { _ in })
            try MeterTests.call(meter, output: 40)
            try ledger.flush()
        }
        let reopened = try Ledger(path: path)
        let run = try #require(try reopened.run("run-gone"))
        #expect(run.outcome == "killed" && run.totals.tokens == 50 && run.totals.calls == 1 && run.ended != nil)
    }
}
