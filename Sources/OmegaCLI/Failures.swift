import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels

/// Exit statuses (see README): 0 success, 1 uncaught error, 2 bad usage or
/// configuration, 3 stopped by a budget — and the one mapping from what went
/// wrong to a status and a message, which every subcommand uses.
enum ExitStatus {
    static let success: Int32 = 0
    static let error: Int32 = 1
    static let usage: Int32 = 2
    static let budget: Int32 = 3

    /// The status an error ends a command with; nil for the argument
    /// parser's own errors (bad flags, `--help`), which it classifies itself.
    static func of(_ failure: Error) -> Int32? {
        switch failure {
        case let e as OmegaError:
            if e.kind == .exit { return e.exitStatus }
            return e.kind == .budget ? budget : error
        case is BudgetExceeded: return budget
        case is ConfigError, is SetupError: return usage
        case is CLIError, is TokenizerError, is LedgerError, is BackendError: return error
        default: return nil
        }
    }

    /// The line (or lines) to print for an error of `command` (`omega`,
    /// `omega tokens`): a script's error with its place and backtrace, a
    /// budget stop as one line (a decision, not a crash), anything else as
    /// `COMMAND: MESSAGE`.
    static func message(for failure: Error, command: String = "omega") -> String {
        if let e = failure as? OmegaError {
            if e.kind == .budget {
                let at = e.location.flatMap { $0.hasPrefix("stdlib/") ? nil : " (at \($0))" } ?? ""
                return "omega: stopped by a budget: \(e.message)\(at)"
            }
            return e.report
        }
        if let e = failure as? BudgetExceeded { return "omega: stopped by a budget: \(e)" }
        return "\(command): \(failure)"
    }

    /// Prints the error's message on standard error and returns its status
    /// (1 for an error nothing classifies).
    static func report(_ failure: Error, command: String = "omega") -> Int32 {
        if let e = failure as? OmegaError, e.kind == .exit { return e.exitStatus }
        printError(message(for: failure, command: command))
        return of(failure) ?? error
    }
}

func printError(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8) ?? Data())
}
