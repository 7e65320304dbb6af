import Testing
@testable import OmegaCore

/// The memory limit, seen from a program that holds nearly all of it.
@Suite struct HeapLimitTests {
    /// After an out-of-memory error it caught, a program still holding its
    /// data goes on allocating: collections come a sixteenth of the limit
    /// apart, not at every safe point (where it crawled: a fuzz input ran
    /// 20 s in collections).
    @Test func aProgramAtItsLimitCollectsNowAndThenNotAtEveryCall() throws {
        var options = Interpreter.Options()
        options.memoryLimit = 16 << 20
        let omega = try Interpreter(options: options)
        let caught = try omega.evaluate("""
            (define keep '())
            (define (fill) (set! keep (cons (make-vector 1000 0) keep)) (fill))
            (guard (e (#t 'oom)) (fill))
            """)
        #expect(caught.raw == omega.symbol("oom").raw)
        #expect(omega.heap.liveBytes > (16 << 20) - (16 << 20) / 16)
        let before = omega.heap.collections
        let done = try omega.evaluate("""
            (define (loop n) (if (> n 0) (begin (cons 1 2) (loop (- n 1))) 'done))
            (loop 1200000)
            """)
        #expect(done.raw == omega.symbol("done").raw)
        // 1,200,000 pairs are 19 MB: a collection per MB, not per safe point.
        let collections = omega.heap.collections - before
        #expect(collections >= 8 && collections <= 24, "\(collections) collections")
    }
}

/// The stack, seen from a deep recursion under a memory limit.
@Suite struct StackMemoryTests {
    /// A recursion deeper than the memory limit allows stops with a stack
    /// overflow that names the limit, near the limit rather than at the
    /// stack's own (33.5M slots, 268 MB), and the interpreter goes on.
    @Test func aDeepRecursionStopsAtTheMemoryLimit() throws {
        var options = Interpreter.Options()
        options.memoryLimit = 16 << 20
        let omega = try Interpreter(options: options)
        do {
            _ = try omega.evaluate("(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1))))) (count 10000000)")
            Issue.record("the recursion ended")
        } catch let e as OmegaError {
            #expect(e.message.contains("stack overflow") && e.message.contains("memory limit"), "\(e.message)")
        }
        #expect(omega.vm.capacity * MemoryLayout<Value>.stride <= (16 << 20) + (1 << 20), "\(omega.vm.capacity) slots")
        #expect(omega.int(try omega.evaluate("(count 1000)")) == 1000)
    }
}
