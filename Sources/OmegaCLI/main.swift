import ArgumentParser
import Foundation
import Omega

struct OmegaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omega",
        abstract: "Omega: a small, fast Scheme whose programs call language models on a budget.",
        usage: """
            omega [options] [FILE.scm [ARGS…]]
            omega run FILE.scm [ARGS…]
            omega -e EXPR
            echo EXPR | omega
            omega repl
            omega count [--model M | --encoding E] [--json] [FILE…]
            omega tokens status|budget|reset|report
            omega config show
            omega test FILE.scm…
            """,
        discussion: """
            With no file and no -e: evaluates standard input when it is not a terminal, \
            else starts the interactive Ω> prompt.
            Every model call is charged against the budgets in force and written to the ledger \
            (an SQLite file; --ledger, $OMEGA_LEDGER, default ~/.local/share/omega/ledger.sqlite).
            Exit status: 0 success, 1 uncaught error, 2 bad usage, 3 stopped by a budget.
            """,
        version: OmegaVersion.string
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Evaluate EXPR and print its value in write form.", valueName: "EXPR"))
    var eval: String?

    @Option(name: .long, help: ArgumentHelp("Most value-stack slots deep recursion may use.", valueName: "SLOTS"))
    var stackLimit: Int?

    @Option(name: .long, help: ArgumentHelp("Stop after this many procedure calls (a runaway-script guard).", valueName: "CALLS"))
    var stepLimit: Int?

    @Option(name: .long, help: ArgumentHelp("Most Scheme data the script may hold, e.g. 512M, 2G (default 1G; also [limits] memory).", valueName: "SIZE"))
    var memoryLimit: String?

    @Option(name: .long, help: ArgumentHelp("Stop an evaluation that runs longer than this (also [limits] time).", valueName: "SECONDS"))
    var timeLimit: Double?

    @Option(name: .customLong("lib-path"), help: ArgumentHelp("A directory `import` searches for library files ((import (my lib)) loads my/lib.sld); repeatable, or colon-separated; searched before $OMEGA_LIB_PATH, the script's directory and the working directory.", valueName: "DIR"))
    var libPath: [String] = []

    @Flag(help: "Run the script with model calls and the clock only: no files, environment, exit or load (also [limits] sandbox).")
    var sandbox = false

    @Option(help: ArgumentHelp("Capabilities to allow (with --sandbox: besides its own): file-read, file-write, environment, exit, load, effects, clock, all.", valueName: "LIST"))
    var allow: String?

    @Option(name: .long, help: ArgumentHelp("The model calls and counts use unless they name one (also $OMEGA_MODEL).", valueName: "NAME"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of .omega/config.toml (also $OMEGA_CONFIG).", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Where model calls go: simulate (default), openai, anthropic, ollama, replay (also $OMEGA_BACKEND).", valueName: "NAME"))
    var backend: String?

    @Option(name: .long, help: ArgumentHelp("Append every model call and its answer to FILE (JSON Lines).", valueName: "FILE"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Answer model calls from a recording, offline and uncharged.", valueName: "FILE"))
    var replay: String?

    @Option(name: .long, help: ArgumentHelp("Token budget of this run (also $OMEGA_TOKEN_BUDGET).", valueName: "TOKENS"))
    var budget: Int?

    @Option(name: .long, help: ArgumentHelp("The ledger database (also $OMEGA_LEDGER; 'none' keeps no ledger).", valueName: "PATH"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp("Re-run a crashed run: its completed calls are answered from the ledger at no cost.", valueName: "RUN"))
    var resume: String?

    @Argument(help: "A Scheme script to run.")
    var file: String?

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, seen through (command-line).")
    var arguments: [String] = []

    func validate() throws {
        if let s = stackLimit, s < 1024 { throw ValidationError("--stack-limit must be at least 1024") }
        if let s = stepLimit, s < 1 { throw ValidationError("--step-limit must be positive") }
        if let t = timeLimit, !(t > 0 && t <= 31_536_000) { throw ValidationError("--time-limit: expected seconds from 0.001 to 31536000") }
        if let a = allow, Capabilities.parse(a.split(separator: ",").map(String.init)) == nil {
            throw ValidationError("--allow: unknown capability in '\(a)' (known: \(Capabilities.names.map(\.0).joined(separator: ", ")), all)")
        }
        if let m = memoryLimit, MemorySize.parse(m) == nil {
            throw ValidationError("--memory-limit: expected a size such as 512M or 2G (at least 16M), got '\(m)'")
        }
        if let b = budget, b < 0 { throw ValidationError("--budget must be a number of tokens (0 or more)") }
        if resume != nil, ledger == "none" { throw ValidationError("--resume needs a ledger: it cannot be used with --ledger none") }
        if eval != nil && file != nil { throw ValidationError("give either -e EXPR or a FILE, not both") }
        if let b = backend, !BackendSelection.names.contains(b) {
            throw ValidationError("unknown backend '\(b)' (known: \(BackendSelection.names.joined(separator: ", ")))")
        }
        if replay != nil, let b = backend, b != "replay" { throw ValidationError("--replay answers from a file: it cannot be used with --backend \(b)") }
    }

    /// The session flags as this command line gives them.
    var sessionFlags: Session.Flags {
        var flags = Session.Flags()
        flags.config = config
        flags.model = model
        flags.backend = backend
        flags.record = record
        flags.replay = replay
        flags.budget = budget
        flags.ledger = ledger
        flags.resume = resume
        flags.memoryLimit = memoryLimit.flatMap(MemorySize.parse)
        flags.timeLimit = timeLimit
        flags.sandbox = sandbox
        flags.allow = allow.flatMap { Capabilities.parse($0.split(separator: ",").map(String.init)) }
        return flags
    }

    /// The script's name in the ledger: its full path, `<-e>` or `<repl>`.
    var scriptName: String {
        file.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? (eval != nil ? "<-e>" : "<repl>")
    }

    /// The session and interpreter of this run, or the exit status when it
    /// cannot start (2 for a bad configuration, 1 otherwise).
    func makeInterpreter() -> Result<(Session, Interpreter), ExitCode> {
        var options = Interpreter.Options()
        if let s = stackLimit { options.stackLimit = s }
        options.stepLimit = stepLimit
        options.libraryPath = libPath.flatMap { $0.split(separator: ":").map(String.init) } + options.libraryPath
        let session: Session
        do {
            session = try Session(flags: sessionFlags)
        } catch {
            return .failure(ExitCode(ExitStatus.report(error, command: "omega")))
        }
        defer {
            for w in session.warnings { printError("omega: \(w)") }
            for note in session.notes { printError("omega: note: \(note)") }
        }
        do {
            let interp = try session.makeInterpreter(script: scriptName, options: options)
            interp.commandLine = [file ?? "omega"] + arguments
            return .success((session, interp))
        } catch let e as OmegaError {
            printError("omega: failed to start: \(e)")
            return .failure(ExitCode(ExitStatus.error))
        } catch {
            return .failure(ExitCode(ExitStatus.report(error, command: "omega")))
        }
    }

    /// The REPL's settings: `[repl] history` / `$OMEGA_HISTORY` (default
    /// `$XDG_STATE_HOME/omega/history`; `none` keeps none) and `[repl]
    /// approvals` (`ask`, the default, or `never`).
    func replSession(_ run: Session) throws -> ReplSession {
        let env = run.environment
        let configuration = run.configuration
        let configured = try configuration.string("repl.history")
        let history = env["OMEGA_HISTORY"].flatMap { $0.isEmpty ? nil : $0 } ?? configured ?? run.defaultHistoryPath
        var session = ReplSession(configuration: configuration,
                                  historyPath: history == "none" ? nil : (history as NSString).expandingTildeInPath)
        if let a = try configuration.string("repl.approvals") {
            guard let mode = ReplSession.Approvals(rawValue: a) else {
                throw ConfigError(place: configuration.lookup("repl.approvals")?.place ?? "repl.approvals", key: "repl.approvals",
                                  message: "expected \"ask\" or \"never\", got \"\(a)\"")
            }
            session.approvals = mode
        }
        return session
    }

    func execute() -> Int32 {
        let session: Session, interp: Interpreter
        switch makeInterpreter() {
        case .success(let made): (session, interp) = made
        case .failure(let code): return code.rawValue
        }
        let status = run(interp, session)
        AlertChannels.waitForDeliveries()
        let outcome = status == ExitStatus.success ? "ok" : status == ExitStatus.budget ? "budget" : "error"
        do {
            try session.endRun(outcome: outcome)
        } catch {
            printError("omega: the ledger could not record the end of the run: \(error)")
        }
        return status
    }

    func run(_ interp: Interpreter, _ session: Session) -> Int32 {
        if let expr = eval {
            return runReporting(interp) {
                let v = try interp.evaluate(expr, sourceName: "<-e>")
                // An expression evaluated for its effect (display, define)
                // prints nothing more.
                if !v.isUnspecified {
                    interp.freshLine()
                    print(interp.writeString(v))
                }
            }
        }
        if let path = file {
            return runReporting(interp) { try interp.evaluateFile(path) }
        }
        if isatty(0) != 0 || forceRepl {
            do {
                return Repl(interp: interp, session: try replSession(session)).run()
            } catch {
                printError("omega: \(error)")
                return ExitStatus.usage
            }
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: input, encoding: .utf8) else {
            printError("omega: standard input is not valid UTF-8 text")
            return ExitStatus.error
        }
        return runReporting(interp) { try interp.evaluate(text, sourceName: "<stdin>") }
    }
}

/// Runs `body`, printing an uncaught error as `FILE:LINE:COL: error: …` plus
/// its backtrace; returns the exit status.
func runReporting(_ interp: Interpreter, _ body: () throws -> Void) -> Int32 {
    defer { interp.flushOutput() }
    do {
        try body()
        return ExitStatus.success
    } catch {
        interp.flushOutput()
        return ExitStatus.report(error)
    }
}

/// `omega test FILE…`: runs Scheme test files written with
/// `(test expected expr)` and `(test-error expr)`.
func runSchemeTests(_ files: [String]) -> Int32 {
    if files.isEmpty {
        printError("omega test: no test files given\nUsage: omega test FILE.scm…")
        return ExitStatus.usage
    }
    // Test files may make model calls: on the simulator, with no ledger.
    var options = Interpreter.Options()
    options.libraries = [ModelLibrary()]
    let runner = SchemeTestRunner(options: options)
    for f in files { runner.run(file: f) }
    print(runner.summary)
    return runner.failed == 0 ? ExitStatus.success : ExitStatus.error
}

/// Parses and runs a subcommand: its own errors exit 1 with `omega NAME:
/// MESSAGE`, bad usage exits 2, `--help` prints and exits 0.
func runSubcommand<C: ParsableCommand>(_ type: C.Type, _ args: [String]) -> Never {
    let name = C.configuration.commandName ?? "omega"
    do {
        var command = try type.parseAsRoot(args)   // as root: a subcommand's own subcommands
        try command.run()
        exit(ExitStatus.success)
    } catch where ExitStatus.of(error) != nil {
        exit(ExitStatus.report(error, command: "omega \(name)"))
    } catch {
        let message = type.fullMessage(for: error)
        if type.exitCode(for: error) == .success {
            print(message)
            exit(ExitStatus.success)
        }
        printError(message)
        printError("Run 'omega \(name) --help' for usage.")
        exit(ExitStatus.usage)
    }
}

// `omega run FILE` is the same as `omega FILE`.
var argv = ArgumentOrder.normalize(Array(CommandLine.arguments.dropFirst()))
if argv.first == "test" {
    let files = Array(argv.dropFirst())
    if files.contains("--help") || files.contains("-h") {
        print("""
            Usage: omega test FILE.scm …

            Runs Scheme test files: each (test EXPECTED EXPR) compares with equal?,
            each (test-error EXPR) expects an error. Prints failures with their
            place and a summary; exits 1 if any failed.
            """)
        exit(ExitStatus.success)
    }
    /// Written once by the test thread before it signals, read after.
    final class Status: @unchecked Sendable { var code: Int32 = 0 }
    let status = Status()
    let finished = DispatchSemaphore(value: 0)
    let t = Thread { status.code = runSchemeTests(files); finished.signal() }
    t.stackSize = 512 << 20
    t.start()
    finished.wait()
    exit(status.code)
}
if argv.first == "count" {
    runSubcommand(CountCommand.self, Array(argv.dropFirst()))
}
if argv.first == "tokens" {
    runSubcommand(TokensCommand.self, Array(argv.dropFirst()))
}
if argv.first == "config" {
    runSubcommand(ConfigCommand.self, Array(argv.dropFirst()))
}
// `omega repl` starts the prompt even when standard input is not a terminal.
var forceRepl = false
if argv.first == "repl" {
    argv.removeFirst()
    forceRepl = true
}
if argv.first == "run" {
    argv.removeFirst()
    if argv.isEmpty {
        printError("omega run: missing FILE.scm\nUsage: omega run FILE.scm [ARGS…]")
        exit(ExitStatus.usage)
    }
}

let command: OmegaCommand
do {
    command = try OmegaCommand.parse(argv)
} catch {
    let code = OmegaCommand.exitCode(for: error)
    let message = OmegaCommand.fullMessage(for: error)
    if code == .success {
        print(message)
        exit(0)
    }
    printError(message)
    printError("Run 'omega --help' for usage.")
    exit(ExitStatus.usage)
}

// Run on a thread with a large stack: the reader, compiler and printer
// recurse over nesting, and scripts deserve generous limits.
var status: Int32 = 0
let done = DispatchSemaphore(value: 0)
let worker = Thread {
    status = command.execute()
    done.signal()
}
worker.stackSize = 512 << 20
worker.start()
done.wait()
exit(status)
