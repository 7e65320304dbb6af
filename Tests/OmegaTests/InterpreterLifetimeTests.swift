import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// An interpreter a host lets go of is freed with everything it made: a
/// host that makes one per request must not grow.
@Suite struct InterpreterLifetimeTests {
    @Test func aDroppedInterpreterIsFreed() throws {
        weak var plain: Interpreter?
        weak var withModels: Interpreter?
        do {
            let a = try Interpreter()
            _ = try a.evaluate("(define (f x) (* x x)) (f 12)")
            plain = a
            var models = ModelLibrary()
            models.meter = Meter(report: { _ in })
            let b = try Interpreter(models: models)
            _ = try b.evaluate("(define l (list 1 2 3)) (length l)")
            withModels = b
        }
        #expect(plain == nil, "an interpreter without models outlived its last reference")
        #expect(withModels == nil, "an interpreter with the model runtime outlived its last reference")
    }

    /// Each kind of thing a program can make, alone in an interpreter.
    @Test(arguments: [
        "(define-syntax swap! (syntax-rules () ((_ a b) (let ((t a)) (set! a b) (set! b t))))) (define x 1) (define y 2) (swap! x y)",
        "(let-syntax ((m (syntax-rules () ((_ x) (+ x 1))))) (m 1))",
        "(define-record-type point (make-point x y) point? (x point-x)) (point-x (make-point 1 2))",
        "(define k #f) (+ 1 (call/cc (lambda (c) (set! k c) 1)))",
        "(define p (make-parameter 1)) (parameterize ((p 2)) (p))",
        "(guard (e (#t 'caught)) (raise 'oops))",
        "(define-library (my lib) (export f) (import (scheme base)) (begin (define (f) 1))) (import (my lib)) (f)",
        "(define ht (make-hash-table equal?)) (hash-table-set! ht '(1) 2)",
        "(define s (delay (+ 1 2))) (force s)",
        "(dynamic-wind (lambda () 1) (lambda () 2) (lambda () 3))",
        "(with-budget (budget 'tokens 1000) (lambda () (effect infer.op \"hi\")))",
        "(car '())",
    ])
    func aDroppedInterpreterIsFreedWhateverItRan(_ script: String) throws {
        weak var gone: Interpreter?
        do {
            var models = ModelLibrary()
            models.meter = Meter(report: { _ in })
            let omega = try Interpreter(models: models)
            _ = try? omega.evaluate(script)
            gone = omega
        }
        #expect(gone == nil, "\(script): the interpreter outlived its last reference")
    }
}
