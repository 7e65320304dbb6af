import COmegaShims
import Foundation

/// Knows how much of the current thread's stack is left, so the recursive
/// parts of the interpreter (expander, code generator, printer) can stop
/// with an error instead of crashing on a thread with a small stack.
struct StackGuard {
    private var thread: pthread_t?
    private var low: UInt = 0
    /// Stop recursing when less than this is left.
    static let margin: UInt = 256 << 10

    /// Records the stack bounds of the calling thread (cheap when unchanged).
    mutating func enter() {
        let me = pthread_self()
        if let t = thread, pthread_equal(t, me) != 0 { return }
        thread = me
        low = UInt(omega_thread_stack_low())
    }

    /// True when the stack is nearly exhausted.
    @inline(__always) var isLow: Bool {
        guard low != 0 else { return false }
        var marker = 0
        let here = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        return here < low &+ StackGuard.margin
    }
}
