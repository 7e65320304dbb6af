/// An error raised inside the interpreter (by a primitive, the reader, the
/// compiler or the VM). The VM turns it into a Scheme condition; uncaught, it
/// reaches the host as an `OmegaError`.
package struct SchemeError: Error {
    package enum Kind: String {
        case error, syntax, read, file, type, arity, range, unbound
        case divisionByZero, stackOverflow, stepLimit, interrupted, exit
        /// The heap limit (`Options.memoryLimit`) would be passed.
        case outOfMemory
        /// A model call failed (timeout, rate limit, server error…).
        case effect
        /// A budget refused a call (`budget-exceeded`, `budget-deferred`) or stopped the run.
        case budget
        /// `(raise obj)` / `(raise-continuable obj)`: `payload` is obj.
        case raise, raiseContinuable
    }

    var kind: Kind
    var message: String
    var irritants: [Value] = []
    package var location: SourceLocation = .none
    /// The procedure that raised it, prefixed to the message.
    package var procedure: String?
    /// For `raise`: the raised object.
    var payload: Value = .unspecified
    /// For `exit`: the status to exit with.
    var exitStatus: Int32 = 0
    /// Already located and given a backtrace by an inner evaluation (e.g.
    /// inside `load`): outer levels pass it on unchanged.
    var isFinal = false

    /// `out of memory: make-vector of 10000000000 elements needs 80 GB; the limit is 1 GB`.
    static func outOfMemory(_ what: String, bytes: Int, limit: Int) -> SchemeError {
        let need = bytes == Int.max ? "more memory than there is" : size(bytes)
        return SchemeError(.outOfMemory, "out of memory: \(what) needs \(need); the limit is \(size(limit)) (the memoryLimit option, --memory-limit or [limits] memory)")
    }

    /// A number of bytes as people read it: `12.5 MiB`, `1.0 GiB`, `300 bytes`.
    static func size(_ n: Int) -> String {
        let d = Double(n)
        if n >= 1 << 30 { return String(format: "%.1f GiB", d / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", d / Double(1 << 20)) }
        return "\(n) bytes"
    }

    package init(_ kind: Kind, _ message: String, irritants: [Value] = [], location: SourceLocation = .none) {
        self.kind = kind
        self.message = message
        self.irritants = irritants
        self.location = location
    }

    /// Whether Scheme handlers may catch it (interrupts, step limits, exit
    /// and budget stops always reach the host; a budget *refusal* is a
    /// condition raised from Scheme, and catchable).
    var isCatchable: Bool {
        switch kind {
        case .interrupted, .stepLimit, .exit, .budget: return false
        default: return !isFinal
        }
    }

    static func syntax(_ message: String, at loc: SourceLocation, form: Value? = nil) -> SchemeError {
        SchemeError(.syntax, message, location: loc)
    }

    /// "expected a pair, got 5" — `what` reads after "expected".
    package static func wrongType(_ v: Value, expected what: String, argument: Int? = nil) -> SchemeError {
        var e = SchemeError(.type, "expected \(what), got ", irritants: [v])
        if let n = argument { e.message = "argument \(n): expected \(what), got " }
        return e
    }

    static func range(_ message: String, _ irritants: Value...) -> SchemeError {
        SchemeError(.range, message, irritants: irritants)
    }
}

/// A Scheme error as the host sees it: message, source location and a short
/// Scheme backtrace, all rendered to strings (no heap references).
public struct OmegaError: Error, CustomStringConvertible, Sendable {
    /// What kind of error, which decides how a host reports it and the exit status.
    public enum Kind: String, Sendable {
        /// A runtime error (including `(error …)` and uncaught `raise`).
        case error
        /// Malformed syntax found while compiling.
        case syntax
        /// The reader could not parse the text.
        case read
        /// A file could not be opened or read.
        case file
        /// Recursion went past the configured stack limit.
        case stackOverflow
        /// The data would pass the configured memory limit.
        case outOfMemory
        /// The configured step (fuel) limit ran out.
        case stepLimit
        /// The host interrupted the evaluation (e.g. Ctrl-C).
        case interrupted
        /// The script called `(exit …)`; `exitStatus` holds the status.
        case exit
        /// A budget stopped the run (an uncaught `budget-exceeded`, an emergency stop).
        case budget
    }

    /// What kind of error it is.
    public let kind: Kind
    /// What went wrong, e.g. `car: expected a pair, got 5`.
    public let message: String
    /// `FILE:LINE:COL` of the expression that failed, when known.
    public let location: String?
    /// Innermost first: `name (FILE:LINE:COL)` of the active procedure calls.
    public let backtrace: [String]
    /// For `.exit`, the status the script asked for.
    public let exitStatus: Int32

    /// `FILE:LINE:COL: error: message`.
    public var description: String {
        if let loc = location { return "\(loc): error: \(message)" }
        return "error: \(message)"
    }

    /// The description followed by the backtrace, one frame per line.
    public var report: String {
        var s = description
        for frame in backtrace { s += "\n  at \(frame)" }
        return s
    }
}
