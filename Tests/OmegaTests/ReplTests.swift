import Foundation
import Testing

/// The prompt in a real terminal: tmux runs `omega`, the test types into it
/// and reads the screen.
@Suite(.serialized) struct ReplTests {
    final class Terminal {
        /// A private tmux server per terminal (`-L`): the test neither needs
        /// nor disturbs a tmux the machine may already run.
        let socket = "omega-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let session = "omega"

        /// A scratch directory the terminal owns: removed with it.
        private var owned: URL?

        init(command: String) throws {
            try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", command])
        }

        /// `omega ARGS` in `directory` with its own ledger and history there;
        /// after it exits the pane shows `EXITED STATUS` and stays.
        convenience init(omegaIn directory: URL, _ args: String = "", environment: String = "") throws {
            let d = directory.path
            try self.init(command: "cd \(d) && env LANG=C.UTF-8 OMEGA_LEDGER=\(d)/ledger.sqlite OMEGA_HISTORY=\(d)/history \(environment) \(ReplTests.omegaPath) \(args); echo EXITED $?; sleep 60")
        }
        /// `omega ARGS` in a fresh scratch directory, removed when the terminal goes.
        convenience init(omegaInScratch args: String = "") throws {
            let directory = try ReplTests.scratch()
            try self.init(omegaIn: directory, args)
            owned = directory
        }
        deinit {
            _ = try? tmux(["kill-server"])
            if let owned { try? FileManager.default.removeItem(at: owned) }
        }

        func type(_ line: String) throws {
            try tmux(["send-keys", "-t", session, "-l", line])
            try tmux(["send-keys", "-t", session, "Enter"])
        }
        func key(_ k: String) throws { try tmux(["send-keys", "-t", session, k]) }

        func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }

        /// Waits until the screen contains `text` (up to 10 s).
        func waitFor(_ text: String) throws -> String {
            var s = ""
            for _ in 0..<100 {
                s = try screen()
                if s.contains(text) { return s }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return s
        }

        @discardableResult
        func tmux(_ args: [String]) throws -> String {
            try runProcess(URL(fileURLWithPath: "/usr/bin/tmux"), ["-L", socket] + args, timeout: 20).stdout
        }
    }

    static var omegaPath: String { builtProduct("omega").path }

    static var haveTmux: Bool { FileManager.default.fileExists(atPath: "/usr/bin/tmux") }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func promptEvaluatesPrintsAndRecovers() throws {
        let t = try Terminal(omegaInScratch: "")
        #expect(try t.waitFor("Ω>").contains("Ω>"))
        try t.type("(define (sq x)")
        try t.type("  (* x x))")
        try t.type("(sq 12)")
        #expect(try t.waitFor("=> 144").contains("=> 144"))
        try t.type("(car 5)")
        #expect(try t.waitFor("error: car").contains("<repl>:1:1: error: car: argument 1: expected a pair, got 5"))
        try t.type("(display \"hi\")")
        let s = try t.waitFor("hi\nΩ>")
        #expect(s.contains("hi\nΩ>"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func ctrlCInterruptsTheEvaluationNotTheRepl() throws {
        let t = try Terminal(omegaInScratch: "")
        _ = try t.waitFor("Ω>")
        // Ctrl-C once the loop is seen running (a condition, not a clock).
        try t.type("(begin (display \"loop-running\") (newline) (let loop () (loop)))")
        _ = try t.waitFor("loop-running\n")
        try t.key("C-c")
        #expect(try t.waitFor("error: interrupted").contains("error: interrupted"))
        try t.type("(+ 1 2)")
        #expect(try t.waitFor("=> 3").contains("=> 3"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func ctrlCCancelsModelCallsInFlight() throws {
        let t = try Terminal(omegaInScratch: "")
        _ = try t.waitFor("Ω>")
        // Each element says it is sending just before its call goes out.
        try t.type("(parallel-map (lambda (p) (display \"sending \") (effect infer.op p 'simulate-latency 30)) '(\"a\" \"b\"))")
        _ = try t.waitFor("sending sending ")
        try t.key("C-c")
        #expect(try t.waitFor("calls in flight were cancelled").contains("interrupted (calls in flight were cancelled)"))
        try t.type("(+ 1 2)")
        #expect(try t.waitFor("=> 3").contains("=> 3"))
    }

    static func scratch() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("omega-repl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func historyIsKeptAcrossSessionsAndCtrlRSearchesIt() throws {
        let dir = try ReplTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let t = try Terminal(omegaIn: dir)
            _ = try t.waitFor("Ω>")
            try t.type("(* 6")
            try t.type("   7)")
            _ = try t.waitFor("=> 42")
            try t.type("(+ 1 1)")
            _ = try t.waitFor("=> 2")
            try t.key("C-d")
            #expect(try t.waitFor("EXITED 0").contains("EXITED 0"))
        }
        let saved = try String(contentsOf: dir.appendingPathComponent("history"), encoding: .utf8)
        // libedit's format: a header, then one entry per line, blanks escaped.
        #expect(saved.hasPrefix("_HiStOrY_V2_") && saved.contains("(+\\0401\\0401)"))
        let t = try Terminal(omegaIn: dir)
        _ = try t.waitFor("Ω>")
        try t.key("C-r")
        try tmuxType(t, "6 7")   // libedit searches by pattern: `*` would be special
        try t.key("Enter")
        // The multi-line entry came back as one line and ran again.
        #expect(try t.waitFor("=> 42").contains("=> 42"))
        try t.key("Up")
        try t.key("Enter")
        #expect(try t.waitFor("=> 42\nΩ> (* 6 7)\n=> 42").contains("=> 42\nΩ> (* 6 7)\n=> 42"))
    }

    private func tmuxType(_ t: Terminal, _ text: String) throws {
        try t.tmux(["send-keys", "-t", t.session, "-l", text])
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func tabCompletesNamesAndCommands() throws {
        let t = try Terminal(omegaInScratch: "")
        _ = try t.waitFor("Ω>")
        try tmuxType(t, "(string-up")
        try t.key("Tab")
        try t.type("\"abc\")")
        #expect(try t.waitFor("=> \"ABC\"").contains("(string-upcase \"abc\")"))
        try tmuxType(t, "(string-")
        try t.key("Tab")   // many candidates: listed under the line
        #expect(try t.waitFor("string-upcase").contains("string-append"))
        try t.key("C-c")
        try tmuxType(t, ":tok")
        try t.key("Tab")
        try tmuxType(t, "sta")
        try t.key("Tab")
        try t.key("Enter")
        #expect(try t.waitFor("TOKEN USAGE DASHBOARD").contains(":tokens status"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func ctrlCDropsAnUnfinishedExpression() throws {
        let t = try Terminal(omegaInScratch: "")
        _ = try t.waitFor("Ω>")
        try t.type("(+ 1")
        _ = try t.waitFor("…")
        try t.key("C-c")
        try t.type("(+ 2 3)")
        #expect(try t.waitFor("=> 5").contains("=> 5"))
        try t.type(":quit")
        #expect(try t.waitFor("EXITED 0").contains("EXITED 0"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func aBudgetHitAsksForApproval() throws {
        let t = try Terminal(omegaInScratch: "--budget 60")
        _ = try t.waitFor("Ω>")
        try t.type("(string? (effect infer.op \"Write a haiku about budgets\"))")
        #expect(try t.waitFor("approve>").contains("run would exceed its limit of 60 tokens"))
        try t.type("+100000")
        #expect(try t.waitFor("=> #t").contains("=> #t"))
        try t.type("(budget-remaining)")
        _ = try t.waitFor("=> ")
        // Declining stops the evaluation, not the session.
        try t.type("(with-budget 5 (lambda () (effect infer.op \"hi\")))")
        _ = try t.waitFor("approve>")
        try t.type("n")
        #expect(try t.waitFor("error: stopped by a budget").contains("error: stopped by a budget: budget <repl>:1"))
        try t.type("(+ 40 2)")
        #expect(try t.waitFor("=> 42").contains("=> 42"))
    }

    /// A with-budget scope whose evaluation fails, is declined or is
    /// interrupted is gone: the next plain call is not refused by it, and
    /// budget-status lists no dead scope.
    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func budgetScopesEndWithTheirEvaluation() throws {
        let t = try Terminal(omegaInScratch: "")
        _ = try t.waitFor("Ω>")
        try t.type("(with-budget 60 (lambda () (car 5)))")
        _ = try t.waitFor("error: car")
        try t.type("(string? (effect infer.op \"Write a haiku about budgets\" 'max-tokens 100))")
        #expect(try t.waitFor("=> #t").contains("=> #t"))
        try t.type("(map (lambda (s) (cdr (assq 'kind s))) (budget-status))")
        #expect(try t.waitFor("=> (run)").contains("=> (run)"))
        // Declined at the approval prompt.
        try t.type("(with-budget 60 (lambda () (effect infer.op \"Write a long poem\" 'max-tokens 500)))")
        #expect(try t.waitFor("approve>").contains("budget <repl>:1 would exceed its limit of 60 tokens"))
        try t.type("n")
        _ = try t.waitFor("error: stopped by a budget")
        try t.type("(length (budget-status))")
        #expect(try t.waitFor("=> 1").contains("=> 1"))
        // Interrupted with Ctrl-C.
        try t.type("(with-budget 100 (lambda () (display \"scope-open\") (newline) (let loop () (loop))))")
        _ = try t.waitFor("scope-open\n")
        try t.key("C-c")
        _ = try t.waitFor("error: interrupted")
        try t.type("(list 'after (length (budget-status)) (string? (effect infer.op \"Another haiku\" 'max-tokens 100)))")
        let screen = try t.waitFor("=> (after")
        #expect(screen.contains("=> (after 1 #t)"), "\(screen)")
        #expect(!screen.contains("863"), "no dead scope charged")
        // Left through a continuation, and re-entered from a later line.
        try t.type("(define k #f)")
        try t.type("(with-budget 60 (lambda () (call/cc (lambda (c) (set! k c))) (length (budget-status))))")
        #expect(try t.waitFor("=> 2").contains("=> 2"))
        try t.type("(let ((c k)) (set! k #f) (if c (c 0) 'none))")
        try t.type("(list 'gone (length (budget-status)))")
        let after = try t.waitFor("=> (gone")
        #expect(after.contains("=> (gone 1)"), "\(after)")
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func approvalsCanBeTurnedOff() throws {
        let dir = try ReplTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "[repl]\napprovals = \"never\"\n".write(to: dir.appendingPathComponent("omega.toml"), atomically: true, encoding: .utf8)
        let t = try Terminal(omegaIn: dir, "--budget 60 --config omega.toml")
        _ = try t.waitFor("Ω>")
        try t.type("(effect infer.op \"Write a haiku about budgets\")")
        let screen = try t.waitFor("error: stopped by a budget")
        #expect(screen.contains("error: stopped by a budget: run would exceed its limit of 60 tokens"))
        #expect(!screen.contains("approve>"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func commands() throws {
        let dir = try ReplTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "(define (cube x) (* x x x))\n".write(to: dir.appendingPathComponent("lib.scm"), atomically: true, encoding: .utf8)
        let t = try Terminal(omegaIn: dir)
        _ = try t.waitFor("Ω>")
        try t.type(":help")
        #expect(try t.waitFor(":quit").contains(":tokens budget WORKFLOW N"))
        try t.type("(define answer 42)")
        try t.type(":defs")
        #expect(try t.waitFor("  answer  42").contains("  answer  42"))
        try t.type(":env answer")
        #expect(try t.waitFor("answer = 42").contains("answer = 42  (defined in this session)"))
        try t.type(":env no-such-thing")
        #expect(try t.waitFor("is not bound").contains("no-such-thing is not bound"))
        try t.type(":load lib.scm")
        _ = try t.waitFor("loaded")
        try t.type("(cube 3)")
        #expect(try t.waitFor("=> 27").contains("=> 27"))
        try t.type(":time (string-length (effect infer.op \"hello\"))")
        #expect(try t.waitFor("model call,").contains("; "))
        try t.type(":model gpt-4o")
        #expect(try t.waitFor("default model: gpt-4o").contains("default model: gpt-4o"))
        try t.type("(current-model)")
        #expect(try t.waitFor("=> \"gpt-4o\"").contains("=> \"gpt-4o\""))
        try t.type(":backend nonsense")
        #expect(try t.waitFor("unknown backend").contains("unknown backend 'nonsense'"))
        try t.type(":backend")
        #expect(try t.waitFor("backend: simulate").contains("backend: simulate"))
        try t.type(":nope")
        #expect(try t.waitFor("unknown command").contains("unknown command :nope"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func tokensCommands() throws {
        let dir = try ReplTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Terminal(omegaIn: dir)
        _ = try t.waitFor("Ω>")
        try t.type(":tokens mode economy")
        _ = try t.waitFor("mode: economy")
        try t.type("(with-workflow \"sprint\" (lambda () (effect infer.op \"hello\" 'model \"gpt-4o\")))")
        _ = try t.waitFor("=> ")
        try t.type(":tokens status")
        // Economy mode sent the gpt-4o call to its cheaper sibling.
        let status = try t.waitFor("Current Workflow (sprint)")
        #expect(status.contains("gpt-4o-mini"))
        try t.type(":tokens budget sprint 300k")
        #expect(try t.waitFor("workflow sprint: 300,000 tokens").contains("kept in the ledger"))
        try t.type(":tokens report by workflow")
        #expect(try t.waitFor("Recommendations").contains("sprint"))
        try t.type(":tokens reset")
        _ = try t.waitFor("again? [y/N]")
        try t.type("y")
        #expect(try t.waitFor("count started again").contains("count started again"))
        try t.type(":tokens mode standard")
        try t.type("(current-mode)")
        #expect(try t.waitFor("=> standard").contains("=> standard"))
        try t.type(":quit")
        _ = try t.waitFor("EXITED")
        // The budget set in the REPL is in the ledger for later runs.
        let listed = try runOmega(["tokens", "budget", "--ledger", dir.appendingPathComponent("ledger.sqlite").path])
        #expect(listed.stdout.contains("workflow sprint: 300,000 tokens"))
    }

    @Test func omegaReplAlsoReadsAPipe() throws {
        let r = try runOmega(["repl"], stdin: "(+ 1 2)\n(display \"hi\")\n(define x\n 5)\nx\n:quit\n")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Ω> => 3\nΩ> hi\nΩ> …  Ω> => 5\n"), "\(r.stdout)")
    }
}
