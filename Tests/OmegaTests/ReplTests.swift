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

        init(command: String) throws {
            try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", command])
        }
        deinit { _ = try? tmux(["kill-server"]) }

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
        let t = try Terminal(command: ReplTests.omegaPath)
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
        let t = try Terminal(command: ReplTests.omegaPath)
        _ = try t.waitFor("Ω>")
        try t.type("(let loop () (loop))")
        Thread.sleep(forTimeInterval: 0.5)
        try t.key("C-c")
        #expect(try t.waitFor("error: interrupted").contains("error: interrupted"))
        try t.type("(+ 1 2)")
        #expect(try t.waitFor("=> 3").contains("=> 3"))
    }

    @Test(.enabled(if: haveTmux, "tmux is installed by scripts/setup"))
    func ctrlCCancelsModelCallsInFlight() throws {
        let t = try Terminal(command: ReplTests.omegaPath)
        _ = try t.waitFor("Ω>")
        try t.type("(parallel-map (lambda (p) (effect infer.op p 'simulate-latency 30)) '(\"a\" \"b\"))")
        Thread.sleep(forTimeInterval: 0.7)
        try t.key("C-c")
        #expect(try t.waitFor("calls in flight were cancelled").contains("interrupted (calls in flight were cancelled)"))
        try t.type("(+ 1 2)")
        #expect(try t.waitFor("=> 3").contains("=> 3"))
    }
}
