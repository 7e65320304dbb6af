import COmegaShims
import Foundation
@testable import OmegaCore
@testable import OmegaModels

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh interpreter whose output is captured.
final class Harness {
    var output = ""
    let interp: Interpreter

    init(stackLimit: Int? = nil, stepLimit: Int? = nil) throws {
        var options = Interpreter.Options()
        if let s = stackLimit { options.stackLimit = s }
        options.stepLimit = stepLimit
        var captured = ""
        options.output = .callback { captured += $0 }
        interp = try Interpreter(options: options, models: ModelLibrary())
        sink = { captured }
    }
    private var sink: () -> String = { "" }

    /// Evaluates and returns the result in write form.
    func eval(_ source: String) throws -> String {
        interp.writeString(try interp.evaluate(source))
    }

    /// Everything written so far.
    var printed: String {
        interp.flushOutput()
        return sink()
    }
}

/// The result of running a child process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

struct ProcessTimeout: Error, CustomStringConvertible {
    var command: [String]
    var seconds: Double
    var description: String { "timed out after \(seconds) s: \(command.joined(separator: " "))" }
}

/// Runs a program to completion with a time limit.
///
/// Output goes to temporary files, not pipes: a pipe read "to end of file"
/// never ends if another process (a tmux server, a child started by a test
/// running in parallel) inherited its write end. The child is started with
/// `posix_spawn` and reaped with `waitpid`, not with Foundation's `Process`,
/// whose exit monitoring was seen to miss a child's exit and wait forever
/// when many tests spawn processes at once. Past `timeout` the child is
/// killed and `ProcessTimeout` is thrown: a stuck test fails, it does not
/// stall the suite.
func runProcess(_ executable: URL, _ args: [String], stdin: String? = nil,
                environment: [String: String]? = nil, timeout: Double = 60) throws -> ProcessResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let inPath = dir.appendingPathComponent("in").path
    let outPath = dir.appendingPathComponent("out").path
    let errPath = dir.appendingPathComponent("err").path
    try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: inPath))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // The child inherits nothing else: a tmux server that kept one of this
    // process's sockets open would keep an HTTP connection of another test
    // from ever closing.
    omega_spawn_close_from(&actions, 3)

    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let argv = ([executable.path] + args).map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }

    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
    guard rc == 0 else {
        throw NSError(domain: NSPOSIXErrorDomain, code: Int(rc),
                      userInfo: [NSLocalizedDescriptionKey: "cannot start \(executable.path): \(String(cString: strerror(rc)))"])
    }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if r < 0 && errno != EINTR { break }
        if Date() > deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw ProcessTimeout(command: [executable.path] + args, seconds: timeout)
        }
        usleep(5_000)
    }
    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
    let exited = status & 0x7f == 0
    let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let o = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
    let e = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
    return ProcessResult(status: code, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self), timedOut: false)
}

/// The built binary `name`, next to the test bundle or in .build/debug.
func builtProduct(_ name: String) -> URL {
    let next = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    return FileManager.default.fileExists(atPath: next.path) ? next : packageRoot.appendingPathComponent(".build/debug/\(name)")
}

/// Runs the built `omega` binary.
func runOmega(_ args: [String], stdin: String? = nil, environment: [String: String]? = nil,
              timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    // Tests keep no ledger unless they ask for one: the developer's own
    // ledger is not theirs to fill.
    var env = environment ?? ProcessInfo.processInfo.environment
    if env["OMEGA_LEDGER"] == nil { env["OMEGA_LEDGER"] = "none" }
    let r = try runProcess(builtProduct("omega"), args, stdin: stdin, environment: env, timeout: timeout)
    return (r.status, r.stdout, r.stderr)
}

/// A child process started without waiting for it (to kill it mid-run).
struct StartedProcess {
    let pid: pid_t
    let dir: URL
    var outPath: String { dir.appendingPathComponent("out").path }
    var errPath: String { dir.appendingPathComponent("err").path }

    /// What the child has written to standard output so far.
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits for the child to end (killing it past `timeout`); its exit status.
    func wait(timeout: Double = 60) -> Int32 {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(5_000)
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: dir) }
}

/// Starts the built `omega` binary with output to files, closing inherited descriptors.
func startOmega(_ args: [String], environment: [String: String]) throws -> StartedProcess {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, dir.appendingPathComponent("out").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, dir.appendingPathComponent("err").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    omega_spawn_close_from(&actions, 3)
    let executable = builtProduct("omega").path
    let argv = ([executable] + args).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard rc == 0 else {
        throw NSError(domain: NSPOSIXErrorDomain, code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot start omega"])
    }
    return StartedProcess(pid: pid, dir: dir)
}
