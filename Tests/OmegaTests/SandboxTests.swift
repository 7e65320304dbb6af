import Foundation
import Synchronization
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// A host runs an untrusted script: it touches only what it was given, and
/// it ends within its steps, memory and time (issue 14).
@Suite struct SandboxTests {
    static let file = FileManager.default.temporaryDirectory.appendingPathComponent("omega-sandbox-\(UUID().uuidString.prefix(8)).scm").path

    /// Each capability, and every procedure that could use it.
    static let attempts: [(Capabilities, String)] = [
        (.fileRead, "(open-input-file \"\(file)\")"),
        (.fileRead, "(call-with-input-file \"\(file)\" read-line)"),
        (.fileRead, "(with-input-from-file \"\(file)\" read-line)"),
        (.fileRead, "(file-exists? \"\(file)\")"),
        (.fileWrite, "(open-output-file \"\(file).out\")"),
        (.fileWrite, "(call-with-output-file \"\(file).out\" (lambda (p) (display 1 p)))"),
        (.fileWrite, "(with-output-to-file \"\(file).out\" (lambda () (display 1)))"),
        (.fileWrite, "(delete-file \"\(file)\")"),
        (.load, "(load \"\(file)\")"),
        (.load, "(include \"\(file)\")"),
        (.environment, "(get-environment-variable \"HOME\")"),
        (.exit, "(exit 3)"),
        (.exit, "(emergency-exit 3)"),
        (.effects, "(effect infer.op \"hello\")"),
        (.effects, "(parallel-map (lambda (q) (effect infer.op q)) '(\"a\" \"b\"))"),
        (.clock, "(current-second)"),
        (.clock, "(current-jiffy)"),
        (.clock, "(current-time)"),
    ]

    @Test func everythingOffIsDeniedThroughEveryProcedure() throws {
        try "(define loaded 1)\n".write(toFile: Self.file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: Self.file); try? FileManager.default.removeItem(atPath: Self.file + ".out") }
        for (capability, script) in Self.attempts {
            var options = Interpreter.Options()
            options.capabilities = Capabilities.all.subtracting(capability)
            var library = ModelLibrary()
            library.meter = Meter(report: { _ in })
            let omega = try Interpreter(options: options, models: library)
            do {
                _ = try omega.evaluate(script)
                Issue.record("\(script) was allowed without \(capability.label)")
            } catch let e as OmegaError {
                #expect(e.message.contains("permission denied: \(capability.label) (capabilities)"), "\(script): \(e.message)")
            }
            // A script can catch the refusal (include's comes when the form is compiled); the interpreter goes on.
            if !script.hasPrefix("(include") {
                let caught = try omega.evaluate("(guard (e ((error-object? e) 'denied)) \(script))")
                #expect(caught.as(Symbol.self)?.name == "denied", "\(script)")
            }
            #expect(omega.int(try omega.evaluate("(* 6 7)")) == 42)
            // With the capability the same script runs (or fails for its own reasons, not a permission).
            var unmetered = ModelLibrary()
            unmetered.meter = Meter(report: { _ in })
            let free = try Interpreter(models: unmetered)
            do { _ = try free.evaluate(script) } catch let e as OmegaError {
                #expect(!e.message.contains("permission denied"), "\(script): \(e.message)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: Self.file) == false, "delete-file ran only where allowed")
    }

    @Test func anUntrustedScriptEndsWithinItsLimits() throws {
        var options = Interpreter.Options()
        options.capabilities = []
        options.stepLimit = 1_000_000
        options.memoryLimit = 32 << 20
        options.timeLimit = 2
        let omega = try Interpreter(options: options)
        for (script, expected) in [("(let loop () (loop))", "step limit exceeded"),
                                   ("(let loop ((l '())) (loop (cons (make-vector 100) l)))", "out of memory"),
                                   ("(make-vector 100000000)", "out of memory"),
                                   // One call that multiplies what it is given: a list of a big string or vector.
                                   ("(length (string->list (make-string 4000000 #\\a)))", "string->list of 4000000 characters"),
                                   ("(length (vector->list (make-vector 2500000 0)))", "vector->list of 2500000 elements"),
                                   ("(let ((v (make-vector 2500000 0))) (vector-length (vector-append v v)))", "out of memory"),
                                   // Shared structure prints once per path: 2^40 leaves from 40 pairs.
                                   ("(let loop ((x (list 1)) (i 0)) (if (< i 40) (loop (cons x x) (+ i 1)) (write x)))",
                                    "the text of this write"),
                                   ("(let loop ((x (vector 1 2)) (i 0)) (if (< i 40) (loop (vector x x) (+ i 1)) (display x)))",
                                    "the text of this display")] {
            do {
                _ = try omega.evaluate(script)
                Issue.record("\(script) ended")
            } catch let e as OmegaError {
                #expect(e.message.contains(expected), "\(script): \(e.message)")
            }
        }
        // An error about shared structure that prints exponentially long
        // shows the start of it, at once.
        do {
            _ = try omega.evaluate("(car (let loop ((x (list 1)) (i 0)) (if (< i 60) (loop (cons x x) (+ i 1)) (vector x))))")
            Issue.record("car of a vector ended")
        } catch let e as OmegaError {
            #expect(e.message.hasPrefix("car: argument 1: expected a pair, got #((((") && e.message.hasSuffix("...")
                    && e.message.utf8.count < 2 * Interpreter.irritantTextLimit, "\(e.message.prefix(200))")
        }
        // Few calls, each making a huge number: the limits still hold.
        for script in ["(let loop ((x 3) (i 0)) (if (< i 40) (loop (* x x) (+ i 1)) x))", "(expt 123456789/1000 16000000)"] {
            do {
                _ = try omega.evaluate(script)
                Issue.record("\(script) ended")
            } catch let e as OmegaError {
                #expect(e.message.contains("out of memory") || e.message.contains("time limit exceeded"), "\(script): \(e.message)")
            }
        }
        var timed = Interpreter.Options()
        timed.timeLimit = 0.3
        let slow = try Interpreter(options: timed)
        do {
            _ = try slow.evaluate("(let loop () (loop))")
            Issue.record("the loop ended")
        } catch let e as OmegaError {
            #expect(e.message.contains("time limit exceeded"))
        }
        #expect(omega.int(try omega.evaluate("(+ 1 2)")) == 3, "usable afterwards")
    }

    /// The compiler, too, ends on any input: circular code (datum labels or
    /// `eval` of a circular list) is an error, and a macro that loops or
    /// doubles its input is stopped by the time limit, the memory limit or
    /// an interrupt, as a runaway loop is.
    @Test func circularCodeAndRunawayMacrosEnd() throws {
        var options = Interpreter.Options()
        options.capabilities = []
        options.memoryLimit = 64 << 20
        options.timeLimit = 2
        let omega = try Interpreter(options: options)
        let doubling = "(define-syntax double (syntax-rules () ((_ x ...) (double x ... x ...)))) (double 1)"
        let shared = "(define-syntax d (syntax-rules () ((_ () x) x) ((_ (n) x) (d n (begin x x)))))"
            + " (d " + String(repeating: "(", count: 40) + String(repeating: ")", count: 40) + " 1)"
        for (script, expected) in [
            ("#0=(let () . #0#)", "improper body"),
            ("(eval (let ((c (list 'begin 1))) (set-cdr! (cdr c) c) c) (interaction-environment))", "improper list"),
            ("(define #0=(#0# a) 1)", "nested deeper than 2000 levels"),
            ("(define-values #0=(a . #0#) (values 1 2))", "duplicate parameter"),
            ("(parameterize #0=((p 1) . #0#) 1)", "no syntax-rules pattern matches"),
            ("(define-syntax f (syntax-rules () ((_ x ...) '(x ...)))) (f . #0=(a . #0#))", "no syntax-rules pattern matches"),
            ("(define-syntax f (syntax-rules () ((_ . #0=(a . #0#)) 1))) (f 1 2)", "f: a pattern is a circular list"),
            ("(define-syntax f (syntax-rules () ((_) '#0=(a . #0#)))) (f)", "nested too deeply (or circular)"),
            ("(define-syntax f (syntax-rules () ((_ a ...) #0=(a ... . #0#)))) (f 1)", "nested too deeply (or circular)"),
            (doubling, "time limit exceeded"),
            (shared, "time limit exceeded"),
        ] {
            do {
                _ = try omega.evaluate(script)
                Issue.record("\(script) ended")
            } catch let e as OmegaError {
                #expect(e.message.contains(expected), "\(script): \(e.message)")
            }
        }
        // Data a macro quotes may be circular (a literal): it is kept as it is.
        let quoted = try omega.evaluate("(define-syntax f (syntax-rules () ((_ x) '(a . x)))) (f #0=(1 . #0#))")
        #expect(omega.writeString(quoted) == "(a . #0=(1 . #0#))")

        // Without a time limit: memory stops the doubling; the code a shared
        // expansion makes counts as memory too; an interrupt stops either.
        var untimed = Interpreter.Options()
        untimed.memoryLimit = 16 << 20
        let bounded = try Interpreter(options: untimed)
        for script in [doubling, shared] {
            do {
                _ = try bounded.evaluate(script)
                Issue.record("\(script) ended")
            } catch let e as OmegaError {
                #expect(e.message.contains("out of memory: compiling this form"), "\(script): \(e.message)")
            }
        }
        let free = try Interpreter()
        let done = Atomic<Bool>(false)
        let stopper = free.interruptSwitch
        let thread = Thread {
            while !done.load(ordering: .relaxed) { stopper.interrupt(); usleep(20_000) }
        }
        thread.start()
        defer { done.store(true, ordering: .relaxed) }
        do {
            _ = try free.evaluate(shared)
            Issue.record("the expansion ended")
        } catch let e as OmegaError {
            #expect(e.message.contains("interrupted"), "\(e.message)")
        }
    }

    @Test func theCommandLineSandbox() throws {
        let r = try runOmega(["--sandbox", "-e", "(get-environment-variable \"HOME\")"])
        #expect(r.status == 1 && r.stderr.contains("get-environment-variable: permission denied: environment (capabilities)"), "\(r.stderr)")
        let allowed = try runOmega(["--sandbox", "--allow", "environment", "-e", "(string? (get-environment-variable \"HOME\"))"])
        #expect(allowed.status == 0 && allowed.stdout.contains("#t"), "\(allowed.stderr)")
        let effects = try runOmega(["--sandbox", "-e", "(string? (effect infer.op \"hi\"))"])
        #expect(effects.status == 0, "model calls stay allowed in the sandbox: \(effects.stderr)")
        let timed = try runOmega(["--time-limit", "0.5", "-e", "(let loop () (loop))"])
        #expect(timed.status == 1 && timed.stderr.contains("time limit exceeded"), "\(timed.stderr)")
        let bad = try runOmega(["--allow", "teleport", "-e", "1"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown capability"))
    }
}
