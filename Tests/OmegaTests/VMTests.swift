import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

@Suite struct VMTests {
    @Test func deepRecursionIsBoundedByMemoryNotTheThreadStack() throws {
        let h = try Harness()
        #expect(try h.eval("(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1))))) (count 1000000)") == "1000000")
    }

    @Test func tailLoopsRunInConstantStack() throws {
        let h = try Harness()
        _ = try h.eval("(let loop ((i 0)) (if (< i 3000000) (loop (+ i 1)) i))")
        // The stack never had to grow past its initial size.
        #expect(h.interp.vm.capacity == 1 << 14)
    }

    @Test func stackLimitRaisesACatchableError() throws {
        let h = try Harness(stackLimit: 100_000)
        do {
            _ = try h.eval("(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1))))) (count 1000000)")
            Issue.record("expected a stack overflow")
        } catch let e as OmegaError {
            #expect(e.kind == .stackOverflow)
            #expect(e.message.contains("stack overflow"))
        }
        // The interpreter is still usable, with its stack unwound.
        #expect(try h.eval("(count 100)") == "100")
        #expect(h.interp.vm.sp == 0)
    }

    @Test func guardCatchesStackOverflowAndBuiltinErrors() throws {
        let h = try Harness(stackLimit: 100_000)
        #expect(try h.eval("""
            (define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))
            (guard (e ((error-object? e) (error-object-message e))) (count 1000000))
            """).contains("stack overflow"))
        #expect(try h.eval("(guard (e (#t (list 'caught (error-object-irritants e)))) (vector-ref (vector 1) 7))")
                == "(caught (7))")
        // After catching, the machine is back to normal.
        #expect(try h.eval("(count 1000)") == "1000")
        // And the next overflow is caught as the first was: in a later
        // form, and within one form (the handler's reserve is given back).
        #expect(try h.eval("(guard (e (#t 'caught-again)) (count 1000000))") == "caught-again")
        #expect(try h.eval("(let loop ((i 0) (caught '())) (if (= i 3) caught (loop (+ i 1) (cons (guard (e (#t i)) (count 1000000)) caught))))")
                == "(2 1 0)")
    }

    @Test func continuationsEscapeThroughHostProcedures() throws {
        let h = try Harness()
        h.interp.defineProcedure("host-call") { i, f in try i.call(f) }
        #expect(try h.eval("(call/cc (lambda (k) (host-call (lambda () (k 'escaped))) 'not-escaped))") == "escaped")
        #expect(try h.eval("(guard (e (#t (list 'caught e))) (host-call (lambda () (raise 'inner))))") == "(caught inner)")
    }

    @Test func stepLimitStopsARunawayScript() throws {
        let h = try Harness(stepLimit: 100_000)
        do {
            _ = try h.eval("(let loop () (loop))")
            Issue.record("expected the step limit to stop the loop")
        } catch let e as OmegaError {
            #expect(e.kind == .stepLimit)
        }
        #expect(try h.eval("(+ 1 2)") == "3")
    }

    @Test func interruptStopsARunningEvaluation() throws {
        let h = try Harness()
        let stop = h.interp.interruptSwitch
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { stop.interrupt() }
        do {
            _ = try h.eval("(let loop ((i 0)) (loop (+ i 1)))")
            Issue.record("expected an interrupt")
        } catch let e as OmegaError {
            #expect(e.kind == .interrupted)
        }
    }

    @Test func garbageIsCollectedAndLiveDataSurvives() throws {
        let h = try Harness()
        _ = try h.eval("""
            (define keep (list 1 2 3 (make-string 5 #\\k) (lambda () 'alive)))
            (define (churn n) (if (= n 0) 'done (begin (make-vector 100 n) (churn (- n 1)))))
            (churn 200000)
            """)
        #expect(h.interp.heap.collections > 0)
        #expect(try h.eval("(list (cadddr keep) ((car (cddddr keep))))") == "(\"kkkkk\" alive)")
        let before = h.interp.heap.objectCount
        h.interp.collectGarbage()
        #expect(h.interp.heap.objectCount <= before)
    }

    @Test func runtimeErrorsNameProcedureValueAndLocation() throws {
        let h = try Harness()
        do {
            _ = try h.interp.evaluate("(define (f x)\n  (car x))\n(display (f 5))", sourceName: "e.scm")
            Issue.record("expected an error")
        } catch let e as OmegaError {
            #expect(e.description == "e.scm:2:3: error: car: argument 1: expected a pair, got 5")
            #expect(e.backtrace.first == "f (e.scm:2:3)")
            #expect(e.backtrace.contains { $0.hasPrefix("top level (e.scm:3:10)") })
        }
        do {
            _ = try h.interp.evaluate("(vector-ref (vector 1 2) 5)", sourceName: "v.scm")
        } catch let e as OmegaError {
            #expect(e.message.contains("vector-ref"))
            #expect(e.message.contains("out of range"))
        }
        do {
            _ = try h.interp.evaluate("(error \"bad thing:\" 42 'foo)", sourceName: "u.scm")
        } catch let e as OmegaError {
            #expect(e.description == "u.scm:1:1: error: bad thing: 42 foo")
        }
        do {
            _ = try h.interp.evaluate("((lambda (a) a))", sourceName: "a.scm")
        } catch let e as OmegaError {
            #expect(e.message.contains("expected 1 argument, got 0"))
        }
        do {
            _ = try h.interp.evaluate("(5 1)", sourceName: "n.scm")
        } catch let e as OmegaError {
            #expect(e.message == "not a procedure: 5")
        }
    }

    @Test func errorsInsideLibraryProceduresPointAtTheUsersCall() throws {
        let h = try Harness()
        do {
            _ = try h.interp.evaluate("(define (f l)\n  (length (map car l)))\n(display (f '(1 2)))", sourceName: "m.scm")
            Issue.record("expected an error")
        } catch let e as OmegaError {
            #expect(e.location == "m.scm:2:11")
            #expect(e.message == "car: argument 1: expected a pair, got 1")
            #expect(e.backtrace.contains { $0.hasPrefix("map (stdlib/") })
        }
    }

    @Test func applyAndRestArguments() throws {
        let h = try Harness()
        #expect(try h.eval("(apply (lambda (a . r) (list a r)) 1 2 '(3 4))") == "(1 (2 3 4))")
        #expect(try h.eval("(apply apply (list + (list 1 2)))") == "3")
    }
}
