import Foundation
import Testing

/// The effect path through the `omega` command: backend flags, record and
/// replay, the examples.
@Suite(.serialized) struct EffectCLITests {
    /// A recording that can no longer be appended to is reported once, and
    /// the program still gets its answers.
    @Test func aRecordingThatStopsGrowingIsReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-rec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("r.jsonl").path
        let program = """
            (effect infer.op "a" 'max-tokens 3)
            (delete-file "\(file)")
            (effect infer.op "b" 'max-tokens 3)
            (effect infer.op "c" 'max-tokens 3)
            (display 'done)
            """
        let r = try runOmega(["--record", file, "-e", program])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("done"))
        let warnings = r.stderr.components(separatedBy: "cannot append to the recording").count - 1
        #expect(warnings == 1, "\(r.stderr)")
    }

    @Test func examplesRunOnTheSimulator() throws {
        let sim = try runOmega([packageRoot.appendingPathComponent("examples/backends/simulate.scm").path])
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("(simulated)") && sim.stdout.contains("total: $"))
        let handlers = try runOmega([packageRoot.appendingPathComponent("examples/backends/handlers.scm").path])
        #expect(handlers.stdout.contains("(cached-prompts 1)"))
    }

    @Test func recordThenReplayGivesTheSameAnswersOffline() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("omega-calls-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let script = packageRoot.appendingPathComponent("examples/backends/record-replay.scm").path
        let recorded = try runOmega(["--record", file, script])
        #expect(recorded.status == 0)
        let replayed = try runOmega(["--replay", file, script])
        #expect(replayed.status == 0)
        #expect(replayed.stdout == recorded.stdout)
        let missing = try runOmega(["--replay", file, "-e", "(effect infer.op \"never asked\")"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no recorded answer") && missing.stderr.contains("never asked"))
    }

    @Test func badBackendSettingsAreUsageErrors() throws {
        let bad = try runOmega(["--backend", "gemini", "-e", "1"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown backend 'gemini'"))
        let env = ProcessInfo.processInfo.environment.merging(["OMEGA_BACKEND": "nope"]) { $1 }
        let badEnv = try runOmega(["-e", "1"], environment: env)
        #expect(badEnv.status == 2 && badEnv.stderr.contains("unknown backend 'nope'"))
        let noFile = try runOmega(["--replay", "/no/such/calls.jsonl", "-e", "1"])
        #expect(noFile.status == 2 && noFile.stderr.contains("cannot read the replay file /no/such/calls.jsonl"))
        let both = try runOmega(["--backend", "openai", "--replay", "x.jsonl", "-e", "1"])
        #expect(both.status == 2)
    }

    @Test func anUnreachableServerIsAClearError() throws {
        let env = ProcessInfo.processInfo.environment.merging(["OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-hidden-123456"]) { $1 }
        let r = try runOmega(["--backend", "openai", "-e", "(effect infer.op \"x\" 'timeout 20)"], environment: env)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot reach 127.0.0.1:9"))
        #expect(!r.stderr.contains("sk-hidden-123456"))
    }

    /// A refusal inside parallel-map stops the run as it does in map: exit 3, one line.
    @Test func aRefusalInsideParallelMapStopsTheRun() throws {
        let body = "(with-budget 1500 (lambda () (MAP (lambda (i) (effect infer.op \"hi\" 'max-tokens 500)) (iota 8))))"
        for map in ["map", "parallel-map"] {
            let r = try runOmega(["-e", body.replacingOccurrences(of: "MAP", with: map)])
            #expect(r.status == 3, "\(map): \(r.stderr)")
            #expect(r.stderr.contains("omega: stopped by a budget: budget <-e>:1 would exceed its limit of 1500 tokens"), "\(map): \(r.stderr)")
        }
    }

    /// An effect's error names the user's file, line and column, also when
    /// it was reached through tail calls and from inside parallel-map.
    @Test func effectErrorsNameTheUsersPlace() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("omega-place-\(UUID().uuidString).scm")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            (define (ask p)
              (effect infer.op p 'simulate-fault 'server-error))
            (define (go) (ask "x"))
            (go)
            """.write(to: file, atomically: true, encoding: .utf8)
        let r = try runOmega([file.path])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("\(file.path):2:3: error: infer.op: simulated server error (500)"), "\(r.stderr)")
        #expect(!r.stderr.contains("stdlib/40-effects.scm"), "\(r.stderr)")

        try """
            (define (ask p)
              (effect infer.op p 'simulate-fault 'server-error))
            (display
              (parallel-map ask '("a" "b")))
            """.write(to: file, atomically: true, encoding: .utf8)
        let p = try runOmega([file.path])
        #expect(p.status == 1)
        #expect(p.stderr.hasPrefix("\(file.path):4:3: error: parallel-map: 2 of 2 elements failed; element 0: infer.op: simulated server error"), "\(p.stderr)")
        #expect(!p.stderr.contains("stdlib/"), "\(p.stderr)")
    }
}
