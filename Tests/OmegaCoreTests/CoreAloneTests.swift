import Testing
import OmegaCore

/// A host that wants only Scheme: it depends on OmegaCore alone (this test
/// target links nothing else — no SQLite, no HTTP, no YAML) and gets the
/// whole language, and nothing of models unless it opens a library.
@Suite struct CoreAloneTests {
    @Test func theEngineRunsSchemeOnItsOwn() throws {
        let omega = try Interpreter()
        let v = try omega.evaluate("""
            (define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
            (list (fib 20) (exact->inexact 1/4) (string-upcase "ok") (call/cc (lambda (k) (k 'escaped))))
            """)
        #expect(omega.writeString(v) == "(6765 0.25 \"OK\" escaped)")
    }

    @Test func modelProceduresAreAbsentUntilALibraryIsOpened() throws {
        let omega = try Interpreter()
        #expect(omega.global("with-budget") == nil)
        #expect(omega.global("count-tokens") == nil)
        #expect(throws: OmegaError.self) { try omega.evaluate("(effect infer.op \"hello\")") }
        // (omega …) names a library only once a library of that name is open.
        do {
            try omega.evaluate("(import (omega budget))", sourceName: "host.scm")
            Issue.record("(import (omega budget)) succeeded without the model library")
        } catch let e as OmegaError {
            #expect(e.message.contains("omega budget"), "\(e.message)")
        }
    }

    /// A host's own library, opened the way OmegaModels' is: its procedures
    /// and Scheme code are built-ins, its state is per interpreter, and it is
    /// told when each evaluation ends.
    @Test func aHostOpensItsOwnLibrary() throws {
        final class Counter: InterpreterAttachment {
            var evaluations = 0
            var failures = 0
            func evaluationEnded(_ interp: Interpreter) { evaluations += 1 }
            func evaluationFailed(_ interp: Interpreter) { failures += 1 }
        }
        struct Greeter: SchemeLibrary {
            var name: String { "greeter" }
            var schemeSources: [(name: String, text: String)] {
                [("greeter.scm", "(define (greet-twice who) (list (greet who) (greet who)))")]
            }
            func open(in interp: Interpreter) throws {
                interp.attach(Counter())
                interp.defineProcedure("greet") { i, who in
                    i.makeString("hello, " + (i.string(who) ?? "?"))
                }
            }
        }
        var options = Interpreter.Options()
        options.libraries = [Greeter()]
        let omega = try Interpreter(options: options)
        let v = try omega.evaluate("(import (greeter any)) (greet-twice \"ada\")")
        #expect(omega.writeString(v) == "(\"hello, ada\" \"hello, ada\")")
        let counter = try #require(omega.attachment(Counter.self))
        let before = counter.evaluations
        #expect(throws: OmegaError.self) { try omega.evaluate("(car '())") }
        #expect(counter.failures == 1)
        #expect(counter.evaluations == before + 1)
        // A second interpreter gets its own state.
        let other = try Interpreter(options: options)
        #expect(other.attachment(Counter.self) !== counter)
    }
}
