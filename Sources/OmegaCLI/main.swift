import ArgumentParser
import Foundation
import COmegaShims
import OmegaCore
import OmegaModels

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
            omega serve [--listen HOST:PORT] [--keys FILE | --no-auth] [--ledger PATH|URL]
            omega help [SUBCOMMAND]
            """,
        discussion: """
            With no file and no -e: evaluates standard input when it is not a terminal, \
            else starts the interactive Ω> prompt.
            Every model call is charged against the budgets in force and written to the ledger \
            (an SQLite file, or postgres://USER@HOST/DB to share budgets across hosts; --ledger, \
            $OMEGA_LEDGER, default ~/.local/share/omega/ledger.sqlite).
            Exit status: 0 success, 1 uncaught error, 2 bad usage, 3 stopped by a budget.
            """,
        version: OmegaVersion.string,
        subcommands: [RunCommand.self, ReplCommand.self, CountCommand.self, TokensCommand.self,
                      ConfigCommand.self, TestCommand.self, ServeCommand.self]
    )

    @OptionGroup var options: RunOptions

    @Argument(help: "A Scheme script to run.")
    var file: String?

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, seen through (command-line).")
    var arguments: [String] = []

    func validate() throws {
        if options.eval != nil && file != nil { throw ValidationError("give either -e EXPR or a FILE, not both") }
    }

    func run() throws {
        throw ExitCode(onLargeStack { ScriptRun(options: options.settings, file: file, arguments: arguments).execute() })
    }
}

/// `omega run FILE.scm [ARGS…]`: the same as `omega FILE.scm [ARGS…]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a Scheme script (the same as omega FILE.scm).")

    @OptionGroup var options: RunOptions

    @Argument(help: "The Scheme script to run.")
    var file: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, seen through (command-line).")
    var arguments: [String] = []

    func validate() throws {
        if options.eval != nil { throw ValidationError("give either -e EXPR or a FILE, not both") }
    }

    func run() throws {
        throw ExitCode(onLargeStack { ScriptRun(options: options.settings, file: file, arguments: arguments).execute() })
    }
}

/// `omega repl`: the Ω> prompt, also when standard input is not a terminal.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl", abstract: "Start the interactive Ω> prompt (also when standard input is not a terminal).")

    @OptionGroup var options: RunOptions

    func validate() throws {
        if options.eval != nil { throw ValidationError("-e evaluates an expression; omega repl starts the prompt") }
    }

    func run() throws {
        throw ExitCode(onLargeStack { ScriptRun(options: options.settings, file: nil, forceRepl: true).execute() })
    }
}

/// `omega test FILE…`.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run Scheme test files.",
        discussion: """
            Each (test EXPECTED EXPR) compares with equal?, each (test-error EXPR) expects an \
            error. Prints failures with their place and a summary; exits 1 if any failed.
            """)

    @Argument(help: ArgumentHelp("Scheme test files.", valueName: "FILE.scm"))
    var files: [String]

    func run() throws {
        let files = self.files
        throw ExitCode(onLargeStack { runSchemeTests(files) })
    }
}

/// Runs `body` on a large stack: the reader, compiler and printer recurse
/// over nesting, and scripts deserve generous limits. The stack is made in
/// this thread (`omega_run_on_stack`), so a run that starts no thread of its
/// own keeps glibc's malloc on its single-threaded paths (no atomic
/// operations or arena lock when the tcache cannot serve an allocation).
/// Where the address space is limited (`ulimit -v`), smaller stacks are
/// tried, and at last the thread's own; the stack guard knows which it is.
func onLargeStack(_ body: @escaping @Sendable () -> Int32) -> Int32 {
    final class Job {
        let body: () -> Int32
        var status: Int32 = 0
        init(_ body: @escaping () -> Int32) { self.body = body }
    }
    let job = Job(body)
    let context = Unmanaged.passRetained(job)
    defer { context.release() }
    for size in [512 << 20, 64 << 20, 16 << 20] {
        let ran = omega_run_on_stack(size, { raw in
            guard let raw else { return }
            let job = Unmanaged<Job>.fromOpaque(raw).takeUnretainedValue()
            job.status = job.body()
        }, context.toOpaque())
        if ran == 0 { return job.status }
    }
    return body()
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
    // Test files may make model calls: on the simulator, with no ledger.
    var options = Interpreter.Options()
    options.libraries = [ModelLibrary()]
    let runner = SchemeTestRunner(options: options)
    for f in files { runner.run(file: f) }
    print(runner.summary)
    return runner.failed == 0 ? ExitStatus.success : ExitStatus.error
}

// Large blocks a program frees stay with malloc for its next ones instead of
// going back to the system at once: by default glibc maps each block over
// 128 KiB on its own and unmaps it when freed, so a program that builds and
// drops large strings (the classic `string` benchmark) spent half its time
// in the kernel zeroing fresh pages. Up to 64 MB of free memory may now be
// kept; the memory limit is the interpreter's own accounting, unaffected.
omega_malloc_keep_freed(64 << 20)

// Options written before a subcommand move after it (`omega --ledger X
// tokens status`); `omega help NAME` becomes `omega NAME --help`.
let argv = ArgumentOrder.normalize(Array(CommandLine.arguments.dropFirst()))
/// `omega tokens`, `omega config` …, or `omega`: how messages name the command.
let commandName = argv.first.flatMap { first in
    OmegaCommand.configuration.subcommands.first { $0.configuration.commandName == first }
}.map { "omega \($0.configuration.commandName ?? "")" } ?? "omega"
/// The subcommand the first argument names, parsed as a command of its own
/// (the root's FILE argument would otherwise take its name), else the root.
if let quick = QuickCommandLine(argv) {
    exit(onLargeStack { ScriptRun(options: quick.settings, file: quick.file, arguments: quick.arguments).execute() })
}
let chosen: ParsableCommand.Type = argv.first.flatMap { first in
    OmegaCommand.configuration.subcommands.first { $0.configuration.commandName == first }
} ?? OmegaCommand.self
var command: ParsableCommand
do {
    command = try chosen.parseAsRoot(chosen == OmegaCommand.self ? argv : Array(argv.dropFirst()))
} catch {
    let message = chosen.fullMessage(for: error)
    if chosen.exitCode(for: error) == .success {
        print(message)
        exit(ExitStatus.success)
    }
    printError(message)
    printError("Run '\(commandName) --help' for usage.")
    exit(ExitStatus.usage)
}
do {
    try command.run()
    exit(ExitStatus.success)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch where ExitStatus.of(error) != nil {
    exit(ExitStatus.report(error, command: commandName))
} catch {
    // The argument parser's own, raised while running: help asked for (on
    // standard output, status 0) or a ValidationError (usage, status 2).
    let message = chosen.fullMessage(for: error)
    if chosen.exitCode(for: error) == .success {
        print(message)
        exit(ExitStatus.success)
    }
    printError(message)
    exit(ExitStatus.usage)
}
