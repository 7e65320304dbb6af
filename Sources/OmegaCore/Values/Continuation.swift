/// A continuation captured by `call/cc`: a copy of the stack segment of the
/// current run (the part above the frame that entered the VM from Swift) up
/// to the frame of the `call/cc` call.
///
/// Invoking it copies the segment back and returns from that frame, so
/// continuations can be re-entered any number of times (generators). A
/// continuation belongs to a run depth: invoked from a deeper run (a Swift
/// procedure that called back into Scheme), the VM unwinds the Swift frames
/// in between with `ContinuationJump`.
final class Continuation: HeapObject {
    let segment: [Value]
    /// Stack index where the segment starts (the run's base).
    let base: Int
    /// Stack index of the frame to return from (its header is 3 below).
    let resumeFP: Int
    /// Nesting depth of the run that captured it.
    let depth: Int

    init(segment: [Value], base: Int, resumeFP: Int, depth: Int) {
        self.segment = segment
        self.base = base
        self.resumeFP = resumeFP
        self.depth = depth
        super.init(kind: .continuation)
    }

    override func trace(_ marker: inout Marker) { for v in segment { marker.mark(v) } }
    override var approximateSize: Int { 64 + segment.count * 8 }
}

/// Thrown to carry a continuation invocation out of nested runs to the run
/// that owns the continuation. It never leaves the interpreter's thread (the
/// run that owns the continuation catches it), which is why its heap object
/// may ride in an error.
struct ContinuationJump: Error {
    nonisolated(unsafe) let continuation: Continuation
    let value: Value
}

/// A raised error as a Scheme object (`error-object?`): what `error` and the
/// built-ins raise, with where it happened.
package final class ErrorObject: HeapObject, CustomPrintable {
    package let errorKind: SchemeError.Kind
    /// The message, with the procedure name in front for built-ins.
    package let message: String
    let irritants: [Value]
    /// True when the message already shows the irritants (built-in type errors).
    let irritantsInMessage: Bool
    package var location: SourceLocation
    /// Rendered backtrace at the point of the error.
    package var backtrace: [String]
    /// Data a library attaches for handlers (e.g. parallel-map's partial results).
    package var payload: Value = .unspecified
    /// The Swift error the condition stands for, when a library made it from
    /// one (a budget refusal), so a host can be shown the original.
    package var hostError: Error?

    init(kind: SchemeError.Kind, message: String, irritants: [Value], irritantsInMessage: Bool,
         location: SourceLocation, backtrace: [String]) {
        errorKind = kind
        self.message = message
        self.irritants = irritants
        self.irritantsInMessage = irritantsInMessage
        self.location = location
        self.backtrace = backtrace
        super.init(kind: .errorObject)
    }

    override func trace(_ marker: inout Marker) {
        for v in irritants { marker.mark(v) }
        marker.mark(payload)
    }

    func printedForm(_ interp: Interpreter) -> String {
        var s = "#<error " + interp.writeString(interp.makeString(message))
        if !irritantsInMessage { for v in irritants { s += " " + interp.writeString(v) } }
        return s + ">"
    }
}
