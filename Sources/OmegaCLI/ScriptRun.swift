import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels

/// The options of a run (`omega`, `omega run`, `omega repl`): limits,
/// capabilities, the model, backend, budget and ledger.
struct RunOptions: ParsableArguments {
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
                if let b = backend, !BackendSelection.names.contains(b) {
            throw ValidationError("unknown backend '\(b)' (known: \(BackendSelection.names.joined(separator: ", ")))")
        }
        if replay != nil, let b = backend, b != "replay" { throw ValidationError("--replay answers from a file: it cannot be used with --backend \(b)") }
    }

    /// The options as plain values, for `ScriptRun`.
    var settings: RunSettings {
        RunSettings(eval: eval, stackLimit: stackLimit, stepLimit: stepLimit, memoryLimit: memoryLimit,
                    timeLimit: timeLimit, libPath: libPath, sandbox: sandbox, allow: allow, model: model,
                    config: config, backend: backend, record: record, replay: replay, budget: budget,
                    ledger: ledger, resume: resume)
    }
}

/// What `RunOptions` holds, as a plain struct: the argument parser's
/// property wrappers cannot be made without parsing, and the commonest
/// command lines are read without it (`QuickCommandLine`).
struct RunSettings {
    var eval: String?
    var stackLimit: Int?
    var stepLimit: Int?
    var memoryLimit: String?
    var timeLimit: Double?
    var libPath: [String] = []
    var sandbox = false
    var allow: String?
    var model: String?
    var config: String?
    var backend: String?
    var record: String?
    var replay: String?
    var budget: Int?
    var ledger: String?
    var resume: String?
}

/// `omega FILE.scm [ARGS…]` and `omega -e EXPR`, recognised without the
/// argument parser, whose reflection over the options was 13 % of the time
/// `omega -e 1` took. Anything else — an option, a subcommand, a file that
/// is not there — goes to the parser, which reports problems as it always has.
struct QuickCommandLine {
    var settings = RunSettings()
    var file: String?
    var arguments: [String] = []

    init?(_ argv: [String]) {
        if argv.count == 2, argv[0] == "-e" || argv[0] == "--eval" {
            settings.eval = argv[1]
            return
        }
        guard let first = argv.first, !first.hasPrefix("-"), ArgumentOrder.subcommands[first] == nil,
              !["test", "serve", "help"].contains(first), FileManager.default.fileExists(atPath: first) else { return nil }
        file = first
        arguments = Array(argv.dropFirst())
    }
}

/// One run of a script, an expression, standard input or the REPL, as the
/// command line asked for it.
struct ScriptRun {
    var options: RunSettings
    var file: String?
    var arguments: [String] = []
    /// `omega repl`: the prompt even when standard input is not a terminal.
    var forceRepl = false

    /// The session flags as this command line gives them.
    var sessionFlags: Session.Flags {
        var flags = Session.Flags()
        flags.config = options.config
        flags.model = options.model
        flags.backend = options.backend
        flags.record = options.record
        flags.replay = options.replay
        flags.budget = options.budget
        flags.ledger = options.ledger
        flags.resume = options.resume
        flags.memoryLimit = options.memoryLimit.flatMap(MemorySize.parse)
        flags.timeLimit = options.timeLimit
        flags.sandbox = options.sandbox
        flags.allow = options.allow.flatMap { Capabilities.parse($0.split(separator: ",").map(String.init)) }
        return flags
    }

    /// The script's name in the ledger: its full path, `<-e>` or `<repl>`.
    var scriptName: String {
        file.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? (options.eval != nil ? "<-e>" : "<repl>")
    }

    /// The session and interpreter of this run, or the exit status when it
    /// cannot start (2 for a bad configuration, 1 otherwise).
    func makeInterpreter() -> Result<(Session, Interpreter), ExitCode> {
        var limits = Interpreter.Options()
        if let s = options.stackLimit { limits.stackLimit = s }
        limits.stepLimit = options.stepLimit
        limits.libraryPath = options.libPath.flatMap { $0.split(separator: ":").map(String.init) } + limits.libraryPath
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
            let interp = try session.makeInterpreter(script: scriptName, options: limits)
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
        // The process exits next: freeing the heap object by object (a few
        // hundred microseconds) would only delay it.
        _ = Unmanaged.passRetained(interp)
        return status
    }

    func run(_ interp: Interpreter, _ session: Session) -> Int32 {
        if let expr = options.eval {
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
