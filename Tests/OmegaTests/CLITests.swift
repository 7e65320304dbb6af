import Foundation
import Testing

/// The `omega` command, run as a process.
@Suite(.serialized) struct CLITests {
    func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omega-cli-\(UUID().uuidString).scm").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func evalPrintsWriteForm() throws {
        let r = try runOmega(["-e", "(list 1 \"two\" #\\3)"])
        #expect(r.status == 0)
        #expect(r.stdout == "(1 \"two\" #\\3)\n")
    }

    @Test func stdinIsEvaluated() throws {
        let r = try runOmega([], stdin: "(display (+ 1 2))")
        #expect(r.status == 0)
        #expect(r.stdout == "3")
    }

    @Test func scriptsRunWithArguments() throws {
        let path = try script("(display (cdr (command-line)))")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega([path, "a", "b"])
        #expect(r.stdout == "(a b)")
        let r2 = try runOmega(["run", path, "x"])
        #expect(r2.stdout == "(x)")
    }

    /// `(import (omega-test shouter))` finds libs/omega-test/shouter.sld on
    /// --lib-path (or $OMEGA_LIB_PATH, or beside the script), which imports
    /// counter.sld and includes a file relative to itself; each loads once.
    @Test func librariesLoadFromTheLibraryPath() throws {
        let libs = packageRoot.appendingPathComponent("Tests/scheme/libs").path
        let program = """
            (import (scheme base) (scheme write) (omega-test shouter) (omega-test counter))
            (define (helper s) 'program-helper)
            (write (list (shout "hi") (shout "ho") count (helper "x") (next!)))
            """
        let path = try script(program)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega(["--lib-path", libs, path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "(\"HI\" \"HO\" 2 program-helper 3)")
        let viaEnvironment = try runOmega([path], environment: ["OMEGA_LIB_PATH": "/nonexistent:" + libs])
        #expect(viaEnvironment.stdout == r.stdout)
        let missing = try runOmega([path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(path):1:1: error: import: unknown library (omega-test shouter): no omega-test/shouter.sld"))
    }

    /// Options may come before a subcommand: `omega --ledger X tokens status`,
    /// `omega --ledger none repl`; `omega help NAME` shows NAME's help.
    @Test func optionsBeforeTheSubcommand() throws {
        let ledger = FileManager.default.temporaryDirectory.appendingPathComponent("omega-order-\(UUID().uuidString).sqlite").path
        defer { MeterTests.removeLedger(ledger) }
        let call = try runOmega(["--ledger", ledger, "-e", "(effect infer.op \"hi\" 'max-tokens 5)"])
        #expect(call.status == 0, "\(call.stderr)")
        let status = try runOmega(["--ledger", ledger, "tokens", "status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\"calls\""), "\(status.stdout)")
        let after = try runOmega(["tokens", "status", "--json", "--ledger", ledger])
        #expect(after.stdout == status.stdout)
        let repl = try runOmega(["--ledger", "none", "repl"], stdin: "(display (* 6 7))\n")
        #expect(repl.status == 0, "\(repl.stderr)")
        #expect(repl.stdout.contains("42"))
        let help = try runOmega(["help", "tokens"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: tokens"))
        let testHelp = try runOmega(["help", "test"])
        #expect(testHelp.stdout.contains("USAGE: test <FILE.scm> ..."), "\(testHelp.stdout)")
        // The root's help lists the subcommands, and shell completion knows them.
        let rootHelp = try runOmega(["--help"])
        for name in ["run", "repl", "count", "tokens", "config", "test"] {
            #expect(rootHelp.stdout.contains("\n  \(name) "), "\(name) missing from --help")
        }
        let completion = try runOmega(["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("tokens") && completion.stdout.contains("--ledger"))
    }

    @Test func uncaughtErrorsExitOneWithLocation() throws {
        let path = try script("(display \"before\")\n(newline)\n  (vector-ref (vector) 0)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega([path])
        #expect(r.status == 1)
        #expect(r.stdout == "before\n")
        #expect(r.stderr.hasPrefix("\(path):3:3: error: vector-ref:"))
    }

    @Test func badUsageExitsTwo() throws {
        #expect(try runOmega(["--no-such-flag"]).status == 2)
        #expect(try runOmega(["run"]).status == 2)
        #expect(try runOmega(["--stack-limit", "x", "-e", "1"]).status == 2)
    }

    @Test func missingFileIsAClearError() throws {
        let r = try runOmega(["/no/such/file.scm"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot read /no/such/file.scm"))
    }

    @Test func exitStatusIsPassedOn() throws {
        #expect(try runOmega(["-e", "(exit 7)"]).status == 7)
        #expect(try runOmega(["-e", "(begin (display \"x\") (exit))"]).stdout == "x")
    }

    @Test func exitRunsOutstandingDynamicWindAfterThunks() throws {
        let r = try runOmega(["-e", "(dynamic-wind (lambda () #f) (lambda () (exit 4)) (lambda () (display \"cleanup\")))"])
        #expect(r.status == 4)
        #expect(r.stdout == "cleanup")
    }

    @Test func uncaughtRaiseIsLocated() throws {
        let path = try script("(define (f) (raise 'boom))\n(display (f))\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega([path])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("\(path):1:13: error: uncaught exception: boom"))
    }

    @Test func helpAndVersion() throws {
        let h = try runOmega(["--help"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("USAGE"))
        #expect(try runOmega(["--version"]).stdout.hasPrefix("0."))
    }

    @Test func syntaxErrorsInScriptsAreLocated() throws {
        let path = try script("(define x 1)\n(display x\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega([path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(path):2:1: error: unexpected end of input"))
    }

    @Test func aScriptThatIsNotUTF8SaysSo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omega-latin1-\(getpid()).scm").path
        try Data("(display \"caf".utf8 + [0xE9] + Data("\")\n".utf8)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runOmega([path])
        #expect(r.status == 1 && r.stderr.contains("cannot read \(path): not valid UTF-8 text"), "\(r.stderr)")
        let loaded = try runOmega(["-e", "(load \"\(path)\")"])
        #expect(loaded.status == 1 && loaded.stderr.contains("not valid UTF-8 text"), "\(loaded.stderr)")
    }
}

/// One mapping from what went wrong to an exit status, whichever subcommand
/// met it: 2 for a configuration or setup the user must fix, 1 for an
/// error, 3 for a budget stop.
@Suite struct ExitStatusTests {
    @Test func everySubcommandMapsAFailureTheSameWay() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-exit-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let badConfig = dir.appendingPathComponent("bad.toml").path
        try "[budget.run]\ntokens = = 2\n".write(toFile: badConfig, atomically: true, encoding: .utf8)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        for args in [["--config", badConfig, "-e", "1"], ["--config", badConfig, "tokens", "status", "--ledger", ledger],
                     ["config", "show", "--config", badConfig], ["--config", badConfig, "count", "--model", "gpt-4o"]] {
            let r = try runOmega(args, stdin: "x")
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("bad.toml:2"), "\(args): \(r.stderr)")
        }
        // A ledger that cannot be opened is a setup the user must fix, for a run and for `tokens`.
        for args in [["--ledger", "/proc/nope/l.sqlite", "-e", "1"], ["tokens", "status", "--ledger", "/proc/nope/l.sqlite"]] {
            let r = try runOmega(args)
            #expect(r.status == 2 && r.stderr.contains("ledger"), "\(args): \(r.status) \(r.stderr)")
        }
        let error = try runOmega(["--ledger", "none", "-e", "(car '())"])
        #expect(error.status == 1 && error.stderr.contains("<-e>:1:1: error: car"), "\(error.stderr)")
        let budget = try runOmega(["--ledger", "none", "--budget", "5", "-e", "(effect infer.op \"a long prompt for a tiny budget\")"])
        #expect(budget.status == 3 && budget.stderr.contains("omega: stopped by a budget"), "\(budget.stderr)")
    }
}
