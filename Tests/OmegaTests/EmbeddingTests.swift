import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

@Suite struct EmbeddingTests {
    @Test func evaluateReturnsSwiftReadableValues() throws {
        let omega = try Interpreter(models: ModelLibrary())
        #expect(omega.int(try omega.evaluate("(* 6 7)")) == 42)
        #expect(omega.string(try omega.evaluate("(string-append \"a\" \"b\")")) == "ab")
        #expect(omega.double(try omega.evaluate("(/ 1. 4)")) == 0.25)
        #expect(omega.array(try omega.evaluate("'(1 2 3)"))?.count == 3)
    }

    @Test func aHostCanApproveRefusedCalls() throws {
        var policy = BudgetPolicy()
        policy.run[.tokens] = 50
        var library = ModelLibrary()
        library.meter = Meter(policy: policy)
        let omega = try Interpreter(models: library)
        var asked: [BudgetExceeded] = []
        var answer = BudgetApproval.extend(10_000)
        omega.budgetApprover = { refusal in asked.append(refusal); return answer }
        let call = "(string? (effect infer.op \"write a poem\" 'max-tokens 100))"
        #expect(try omega.evaluate(call) == .true)
        #expect(asked.count == 1 && asked[0].kind == .run && asked[0].limit == 50)
        #expect(omega.meter.status().first { $0.kind == .run }?.limit == 10_050)
        // A Scheme handler answers first; the host is not asked.
        #expect(try omega.evaluate("(with-exception-handler (lambda (c) #t) (lambda () (with-budget 5 (lambda () \(call)))))") == .true)
        #expect(asked.count == 1)
        answer = .once
        #expect(try omega.evaluate("(with-budget 5 (lambda () \(call)))") == .true)
        #expect(asked.count == 2)
        answer = .decline
        #expect(throws: OmegaError.self) { try omega.evaluate("(with-budget 5 (lambda () \(call)))") }
        #expect(asked.count == 3)
    }

    /// A `with-budget` scope ends with the evaluation that opened it, however
    /// that ended; later plain calls are neither charged nor refused by it.
    @Test func budgetScopesEndWithTheirEvaluation() throws {
        var library = ModelLibrary()
        library.meter = Meter(report: { _ in })
        let omega = try Interpreter(models: library)
        omega.budgetApprover = { _ in .decline }
        let plain = "(string? (effect infer.op \"hello\" 'max-tokens 20))"
        // An error inside the scope.
        #expect(throws: OmegaError.self) { try omega.evaluate("(with-budget 60 (lambda () (car 5)))") }
        #expect(omega.meter.openScopes.isEmpty)
        // A declined approval: the host gets the user's message, no internal prefix.
        do {
            _ = try omega.evaluate("(with-budget 60 (lambda () (effect infer.op \"Write a long poem\" 'max-tokens 500)))", sourceName: "summarise.scm")
            Issue.record("not stopped")
        } catch let e as OmegaError {
            #expect(e.kind == .budget)
            #expect(e.message.hasPrefix("budget summarise.scm:1 would exceed its limit of 60 tokens"), "\(e.message)")
            #expect(!e.description.contains("%"), "\(e.description)")
        }
        #expect(omega.meter.openScopes.isEmpty)
        #expect(try omega.evaluate(plain) == .true)
        #expect(omega.meter.status().allSatisfy { $0.kind != .scope })
        // Left through a continuation, from a later evaluation too.
        _ = try omega.evaluate("(define k #f)")
        _ = try omega.evaluate("(with-budget 60 (lambda () (call/cc (lambda (c) (set! k c))) (budget-remaining)))")
        #expect(omega.meter.openScopes.isEmpty)
        #expect(omega.int(try omega.evaluate("(call/cc (lambda (out) (with-budget 60 (lambda () (out 7)))))")) == 7)
        #expect(omega.meter.openScopes.isEmpty)
        // Re-entering the extent puts the scope back in force while inside it.
        let remaining = try omega.evaluate("(if (procedure? k) (let ((first-time #t)) (k 0)) 'done)")
        #expect(omega.int(remaining) == 60)
        #expect(omega.meter.openScopes.isEmpty)
        // An interrupt.
        let stop = omega.interruptSwitch
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { stop.interrupt() }
        #expect(throws: OmegaError.self) { try omega.evaluate("(with-budget 100 (lambda () (let loop () (loop))))") }
        #expect(omega.meter.openScopes.isEmpty)
        #expect(try omega.evaluate(plain) == .true)
    }

    /// The host (the REPL's prompt) is asked about refusals inside
    /// parallel-map as for a sequential call, once per refused element.
    @Test func aHostIsAskedAboutRefusalsInsideParallelMap() throws {
        var library = ModelLibrary()
        library.meter = Meter(report: { _ in })
        let omega = try Interpreter(models: library)
        var asked = 0
        omega.budgetApprover = { _ in asked += 1; return .once }
        let n = try omega.evaluate("""
            (length (with-budget 300 (lambda () (parallel-map (lambda (i) (effect infer.op (list "q" i) 'max-tokens 100)) (iota 8) 8))))
            """)
        #expect(omega.int(n) == 8)
        #expect(asked >= 6)
        asked = 0
        omega.budgetApprover = { _ in asked += 1; return .decline }
        do {
            _ = try omega.evaluate("(with-budget 300 (lambda () (parallel-map (lambda (i) (effect infer.op (list \"r\" i) 'max-tokens 100 'simulate-latency 0.05)) (iota 8) 8)))")
            Issue.record("not stopped")
        } catch let e as OmegaError {
            #expect(e.kind == .budget)
        }
        #expect(asked == 1)
        // The calls the stopped evaluation left in flight were settled: nothing stays reserved.
        #expect(omega.effects.inFlight == 0)
        #expect(omega.meter.status().allSatisfy { $0.reserved == 0 })
    }

    @Test func hostProceduresAreCallableFromScheme() throws {
        let omega = try Interpreter()
        omega.defineProcedure("host-add") { i, a, b in
            i.value((i.int(a) ?? 0) + (i.int(b) ?? 0))
        }
        omega.defineProcedure("host-sum", minArguments: 0, maxArguments: nil) { i, args in
            i.value(args.array.reduce(0) { $0 + (i.int($1) ?? 0) })
        }
        #expect(omega.int(try omega.evaluate("(host-add 2 3)")) == 5)
        #expect(omega.int(try omega.evaluate("(host-sum 1 2 3 4)")) == 10)
        #expect(omega.int(try omega.evaluate("(apply host-sum '(5 5))")) == 10)
    }

    @Test func hostProceduresCanCallBackIntoScheme() throws {
        let omega = try Interpreter()
        omega.defineProcedure("twice") { i, f in
            let once = try i.call(f, i.value(1))
            return try i.call(f, once)
        }
        #expect(omega.int(try omega.evaluate("(twice (lambda (x) (* x 10)))")) == 100)
    }

    @Test func schemeErrorsBecomeSwiftErrors() throws {
        let omega = try Interpreter()
        omega.defineProcedure("fail") { i, v in throw i.error("host says no:", irritants: [v]) }
        do {
            try omega.evaluate("\n(fail 7)", sourceName: "host.scm")
            Issue.record("expected an error")
        } catch let e as OmegaError {
            #expect(e.kind == .error)
            #expect(e.message == "fail: host says no: 7")
            #expect(e.location == "host.scm:2:1")
        }
        // Still usable after the error.
        #expect(omega.int(try omega.evaluate("1")) == 1)
    }

    @Test func callingSchemeProceduresFromSwift() throws {
        let omega = try Interpreter()
        try omega.evaluate("(define (greet name) (string-append \"hi \" name))")
        let greet = try #require(omega.global("greet"))
        #expect(omega.string(try omega.call(greet, omega.value("bob"))) == "hi bob")
        #expect(throws: OmegaError.self) { try omega.call(greet, omega.value(3)) }
    }

    @Test func interpretersShareNothing() throws {
        let a = try Interpreter(), b = try Interpreter()
        try a.evaluate("(define shared 1)")
        #expect(a.global("shared") != nil)
        #expect(b.global("shared") == nil)
        try b.evaluate("(define (car x) 'b-car)")
        #expect(a.writeString(try a.evaluate("(car '(1))")) == "1")
    }

    /// Token-counting settings belong to an interpreter: configuring one
    /// (a model mapped to another encoding) changes nothing in another, also
    /// when both count at once on two threads; only rank tables are shared.
    @Test func interpretersKeepTheirOwnTokenSettings() throws {
        let custom = ModelSettings()
        custom.tokens.models.custom = [.init("house-model", "cl100k_base")]
        var library = ModelLibrary()
        library.models = custom
        // Each interpreter is used by one thread at a time (its own below).
        nonisolated(unsafe) let configured = try Interpreter(models: library)
        nonisolated(unsafe) let plain = try Interpreter(models: ModelLibrary())
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            let omega = k == 0 ? configured : plain
            var seen = 0
            for _ in 0..<200 {
                let encoding = omega.models.tokens.resolve("house-model").encoding
                seen = encoding == "cl100k_base" ? 1 : (encoding == "o200k_base" ? 2 : 3)
                _ = try? omega.evaluate("(count-tokens \"a few words to count\" \"house-model\")")
            }
            results.set(k, seen)
        }
        #expect(Array(results.values.prefix(2)) == [1, 2])
    }

    @Test func interpretersRunOnSeparateThreads() throws {
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            let omega = try? Interpreter()
            let v = try? omega?.evaluate("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib \(15 + k))")
            results.set(k, v.flatMap { omega?.int($0) } ?? -1)
        }
        #expect(results.values == [610, 987, 1597, 2584])
    }

    @Test func handlesKeepValuesAliveAcrossCollections() throws {
        let omega = try Interpreter()
        let h = omega.retain(try omega.evaluate("(list 'kept (make-string 3 #\\z))"))
        try omega.evaluate("(define (churn n) (if (> n 0) (begin (make-vector 50) (churn (- n 1))))) (churn 300000)")
        omega.collectGarbage()
        #expect(omega.writeString(h.value) == "(kept \"zzz\")")
        omega.release(h)
    }

    @Test func outputCanBeCaptured() throws {
        var options = Interpreter.Options()
        var text = ""
        options.output = .callback { text += $0 }
        let omega = try Interpreter(options: options)
        try omega.evaluate("(display \"hello\") (newline) (write \"q\")")
        #expect(text == "hello\n\"q\"")
    }

    @Test func theEmbeddingDemoRuns() throws {
        let demo = builtProduct("omega-embed-demo")
        try #require(FileManager.default.fileExists(atPath: demo.path), "omega-embed-demo is not built (swift build builds it)")
        let text = try runProcess(demo, []).stdout
        #expect(text.contains("sum of squares: 30"))
        #expect(text.contains("fib(20) = 6765"))
        #expect(text.contains("caught: demo.scm:1:1: error: car"))
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int]
    init(count: Int = 4) { storage = [Int](repeating: 0, count: count) }
    func set(_ i: Int, _ v: Int) { lock.lock(); storage[i] = v; lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}
