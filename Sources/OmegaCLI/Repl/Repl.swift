import COmegaShims
import Foundation
import Synchronization
import OmegaCore
import OmegaModels

/// The interactive `Ω>` prompt.
///
/// Reads lines (libedit on a terminal) until they hold complete expressions,
/// evaluates each, prints its value as `=> value` and an error as
/// `error: …` with its place, and goes on. Lines starting with `:` are REPL
/// commands (ReplCommands.swift). Ctrl-C ends the line being typed or the
/// evaluation running (with its model calls in flight); Ctrl-D exits.
final class Repl {
    let interp: Interpreter
    let editor = LineEditor()
    /// What the REPL was started with: the configuration (to switch
    /// backends), the ledger's path, the policy as configured.
    let session: ReplSession
    /// Globals bound before the user typed anything (`:defs` lists the rest).
    let initialNames: Set<String>

    /// Whether Ctrl-C should end a read or an evaluation.
    private enum Activity { case reading, evaluating }
    private let activity = Locked(Activity.reading)

    init(interp: Interpreter, session: ReplSession) {
        self.interp = interp
        self.session = session
        initialNames = Set(interp.globalNames)
        editor.completer = { [unowned self] line, word in self.completions(line: line, word: word) }
    }

    static let prompt = "Ω> "
    static let continuationPrompt = "…  "

    func run() -> Int32 {
        // Lines appear as they are printed, in order with the prompts, also
        // when `omega repl` talks to a pipe.
        omega_stdout_line_buffered()
        print("Omega \(OmegaVersion.string) — :help for commands, Ctrl-C interrupts, Ctrl-D exits")
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupts.setEventHandler { [self] in
            if activity.value == .reading { editor.interrupt() } else { interp.interrupt() }
        }
        interrupts.resume()
        defer { interrupts.cancel() }
        if session.approvals == .ask, editor.isInteractive {
            interp.budgetApprover = { [unowned self] refusal in self.askApproval(refusal) }
        }
        if let path = session.historyPath { editor.loadHistory(from: path) }

        var pending = ""
        while true {
            activity.value = .reading
            let input = editor.read(prompt: pending.isEmpty ? Repl.prompt : Repl.continuationPrompt)
            switch input {
            case .endOfInput:
                print("")
                return ExitStatus.success
            case .interrupted:
                pending = ""
                continue
            case .line(let line):
                if pending.isEmpty, line.trimmingCharacters(in: .whitespaces).hasPrefix(":") {
                    remember(line)
                    if let status = command(line.trimmingCharacters(in: .whitespaces)) { return status }
                    continue
                }
                pending += line + "\n"
                if pending.allSatisfy(\.isWhitespace) { pending = ""; continue }
                if interp.needsMoreInput(pending) { continue }
                let source = pending
                pending = ""
                remember(source)
                if let status = evaluate(source) { return status }
            }
        }
    }

    /// Adds an entry to the history (a multi-line expression as one line)
    /// and saves the history file at once, so a killed session keeps it.
    private func remember(_ source: String) {
        let entry = source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        guard !entry.isEmpty else { return }
        editor.addHistory(entry)
        if let path = session.historyPath, !editor.saveHistory(to: path), !historyWarned {
            historyWarned = true
            printError("omega: cannot write the history file \(path)")
        }
    }
    private var historyWarned = false

    /// Evaluates `source`, printing each value (unless `printValues` is
    /// false, as for `:load`); the exit status when the program called `exit`.
    func evaluate(_ source: String, sourceName: String = "<repl>", printValues: Bool = true) -> Int32? {
        activity.value = .evaluating
        defer {
            activity.value = .reading
            editor.clearInterrupt()
        }
        do {
            try interp.evaluate(source, sourceName: sourceName) { value in
                interp.freshLine()
                if printValues && !value.isUnspecified { print("=> \(interp.writeString(value))") }
            }
        } catch let e as OmegaError {
            interp.freshLine()
            if e.kind == .exit { return e.exitStatus }
            report(e)
        } catch {
            interp.freshLine()
            print("error: \(error)")
        }
        return nil
    }

    /// Prints an error and keeps the session usable: a budget stop names the
    /// scope (not the library line that raised it) and the emergency stop,
    /// which refuses every later call, is lifted, since the user is here to decide.
    func report(_ e: OmegaError) {
        if e.kind == .budget {
            let message = e.message.hasPrefix("%budget-stop: ") ? String(e.message.dropFirst(14)) : e.message
            print("error: stopped by a budget: \(message)")
            if interp.meter.isStopped {
                interp.meter.clearEmergency()
                print("  (the emergency stop is lifted for this session; :tokens status shows the damage)")
            }
            return
        }
        print(e.report)
    }

    // MARK: Approvals

    /// Asks whether a refused call may go on: once, with more budget, or not.
    func askApproval(_ refusal: BudgetExceeded) -> BudgetApproval {
        interp.freshLine()
        print("budget: \(refusal.description)")
        let unit = refusal.unit
        let suggestion = ApprovalAnswer.suggestedExtension(refusal)
        print("  approve? [y] this call only  [N] no  [+AMOUNT] raise the limit by AMOUNT \(unit.shortName) (e.g. +\(ApprovalAnswer.format(suggestion, unit)))")
        let before = activity.value
        activity.value = .reading
        defer { activity.value = before }
        while true {
            switch editor.read(prompt: "approve> ") {
            case .endOfInput, .interrupted:
                return .decline
            case .line(let line):
                switch ApprovalAnswer.parse(line, unit: unit) {
                case .success(let answer): return answer
                case .failure(let problem): print("  \(problem)")
                }
            }
        }
    }
}

/// What the REPL keeps from its start-up.
struct ReplSession {
    enum Approvals: String { case ask, never }
    var configuration: Configuration
    var historyPath: String?
    var approvals: Approvals = .ask
}

/// A value shared between the REPL's thread and its signal handler.
final class Locked<T: Sendable>: Sendable {
    private let stored: Mutex<T>
    init(_ value: T) { stored = Mutex(value) }
    var value: T {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
